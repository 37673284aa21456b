// Pure: hf's exit code + output → ok | retry | fatal. The CLI prints Python exceptions; labsync's
// listing script (list-tree.ts) prints a JSON document naming the kind of failure.
import type { Command, Outcome, ToolOutput } from '../types.js';
import { parseListError } from './parse.js';

// "Returning existing local_dir `D` as remote repo cannot be accessed": hf download exits 0 into a
// non-empty folder when the server is unreachable or answers an error (TESTBED-models.md). A failure.
const STALE_LOCAL_DIR = /Returning existing local_dir/;
const TRANSIENT = /Connection refused|ConnectError|ConnectTimeout|ReadTimeout|RemoteProtocolError|Temporary failure in name resolution|timed out|50[234] Server Error|429 Client Error|Connection reset|Network is unreachable/i;

function lastLines(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^(File "|Traceback|\^+$|~+)/.test(l));
  return lines.slice(-3).join(' ').slice(0, 500);
}

const where = (command: Command): string => command.label;

export function classify(output: ToolOutput, command: Command): Outcome {
  const both = `${output.stderr}\n${output.stdout}`;
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  if (output.exitCode === 0) {
    const stale = both.split('\n').find((l) => STALE_LOCAL_DIR.test(l));
    if (stale) return { kind: 'retry', reason: `the Hub could not be reached, and hf download exited 0 anyway: ${stale.trim().slice(0, 400)}` };
    return { kind: 'ok' };
  }
  const listed = parseListError(output.stdout);
  const kind = listed?.kind ?? (/OfflineModeIsEnabled/.test(both) ? 'offline' : /RevisionNotFoundError|Revision not found/i.test(both) ? 'revision_not_found'
    : /RepositoryNotFoundError|Repository Not Found|(Model|Dataset|Space) '[^']+' not found/i.test(both) ? 'repo_not_found'
    : /401 Client Error|403 Client Error|Invalid credentials|Invalid user token/i.test(both) ? 'auth'
    : TRANSIENT.test(both) ? 'unreachable' : 'other');
  const said = listed?.message || lastLines(both) || `hf exit ${output.exitCode}`;
  switch (kind) {
    case 'unreachable':
      return { kind: 'retry', reason: `the Hub could not be reached: ${said}` };
    case 'repo_not_found':
      return { kind: 'fatal', reason: `${where(command)}: the repo does not exist (or the token cannot see it); check repo and repo_type, or set create: true on the remote to let a push create it (private): ${said}` };
    case 'revision_not_found':
      return { kind: 'fatal', reason: `${where(command)}: the revision does not exist in the repo (a branch, a tag or a 40-hex commit id): ${said}` };
    case 'auth':
      return { kind: 'fatal', reason: `${where(command)}: the Hub refused the token: ${said}`, hint: 'set HF_TOKEN or run `hf auth login`' };
    case 'offline':
      return { kind: 'fatal', reason: `${where(command)}: HF_HUB_OFFLINE is set, so the client may not reach the Hub: ${said}`, hint: 'unset HF_HUB_OFFLINE (or set it to 0) for labsync runs' };
    case 'moved':
      return { kind: 'fatal', safety: true, reason: `${where(command)}: the branch moved since it was listed (another commit landed there); nothing was committed: ${said}`, hint: 'run the push again: it plans against the new head' };
    case 'client':
      return { kind: 'fatal', reason: `the hf install cannot be imported by its own Python: ${said}`, hint: 'pipx reinstall huggingface_hub' };
    default:
      return { kind: 'fatal', reason: `${where(command)}: ${said}` };
  }
}
