// Pure: dvc's exit code + stderr → ok | retry | fatal. dvc: 0 ok, 1 push/pull failed, 251 config/auth,
// 252 interrupted, 253 not a DVC repository, 255 anything else — "Unable to acquire lock" included.
import type { Command, Outcome, ToolOutput } from '../types.js';

const TRANSIENT = /Could not connect|ConnectTimeout|ConnectionError|EndpointConnectionError|Connection (refused|reset)|timed out|SlowDown|Throttl|ServiceUnavailable|temporarily unavailable/i;
// A bare 403 matched md5s dvc echoes ("failed to transfer '…403…'"), making a reset connection fatal.
const CREDENTIALS = /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|Unable to locate credentials|NoCredentialsError|Forbidden|\b403\b(?![0-9a-f])/i;

export function excerpt(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Having any troubles|For more information|Check the page)/.test(l)).slice(-2).join(' | ').slice(0, 500);
}

export function classify(output: ToolOutput, command: Command): Outcome {
  const { exitCode, stderr } = output;
  // The git steps of --commit: a .gitignore dvc did not write is nothing to stage; nothing new is nothing to commit.
  if (command.tool === 'git') {
    if (exitCode === 0) return { kind: 'ok' };
    if (/nothing to commit|no changes added to commit/.test(`${stderr}${output.stdout}`)) return { kind: 'ok' };
    return { kind: 'fatal', reason: `git: ${excerpt(stderr) || `exit ${exitCode}`}` };
  }
  const said = excerpt(stderr) || `dvc exit ${exitCode}`;
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  if (exitCode === 0) return { kind: 'ok' };
  if (/Unable to acquire lock|is busy, it is being blocked by/i.test(stderr)) return { kind: 'fatal', locked: true, reason: `another dvc process holds this repository's lock: ${said}` };
  if (exitCode === 253 || /not inside of a DVC repository|not a DVC repository/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `not a DVC repository: ${said}`, hint: 'run `dvc init` in the git repository that holds the data' };
  }
  if (CREDENTIALS.test(stderr)) return { kind: 'fatal', reason: `credentials refused: ${said}` };
  if (/NoSuchBucket|bucket does not exist/i.test(stderr)) return { kind: 'fatal', reason: `the bucket does not exist: ${said}` };
  if (/Use `-f`|--force|checkout failed for following targets|would be overwritten|is modified/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `local data differs from the version being pulled: ${said}`, hint: `push or \`dvc add\` your changes first; labsync never overwrites local data (pair ${command.pair ?? ''})` };
  }
  if (/missing (cache )?files|cache files? (are|is) missing|not found in cache|missing from the remote/i.test(stderr)) {
    return { kind: 'fatal', reason: `some data is missing from the cache or the remote: ${said}`, hint: 'the version recorded in the .dvc file was never pushed from where it was made' };
  }
  if (/No module named|install .*dvc\[|dvc-ssh|dvc-s3/i.test(stderr)) return { kind: 'fatal', reason: `a DVC plugin is missing: ${said}`, hint: "pipx install --force 'dvc[s3]' (or 'dvc[ssh]')" };
  if (TRANSIENT.test(stderr)) return { kind: 'retry', reason: said };
  return { kind: 'fatal', reason: said };
}
