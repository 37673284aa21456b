// Pure: git's exit code + stderr → ok | retry | fatal. git: 1 = push rejected, 128 = fatal (diverged
// ff-only pull, bad repository, and network failures alike), so stderr decides (TESTBED.md).
import type { Command, Outcome, ToolOutput } from '../types.js';

const NETWORK = /Could not read from remote repository|early EOF|Connection (refused|reset|timed out)|unable to access|Could not resolve host|remote end hung up|Operation timed out|RPC failed/i;
const AUTH = /Permission denied \(publickey|Host key verification failed|Authentication failed|could not read Username|terminal prompts disabled|returned error: 40[13]\b/i;

export function excerpt(stderr: string): string {
  // git's boilerplate after a network failure says nothing the line before it does not.
  const noise = /^hint:|^Please make sure you have the correct access rights|^and the repository exists/;
  return stderr.split('\n').map((l) => l.trim()).filter((l) => l && !noise.test(l)).slice(-2).join(' | ').slice(0, 400);
}

export function classify(output: ToolOutput, command: Command): Outcome {
  const { exitCode } = output;
  // git-lfs prints its upload failures ("(missing) file") on stdout.
  const stderr = command.args.includes('lfs') ? `${output.stderr}\n${output.stdout}` : output.stderr;
  const said = excerpt(stderr) || `git exit ${exitCode}`;
  const pair = command.pair ?? 'NAME';
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  if (exitCode === 0) return { kind: 'ok' };
  if (AUTH.test(stderr)) return { kind: 'fatal', reason: `the remote refused access: ${said}`, hint: 'check the remote URL and your ssh key or credentials (labsync never prompts)' };
  if (/\[rejected\]|non-fast-forward|fetch first|Updates were rejected/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `the remote has commits this clone does not: ${said}`, hint: `run \`labsync code pull ${pair}\` (fast-forward only) or \`git pull --rebase\`, then push again; labsync never force-pushes` };
  }
  if (/\[remote rejected\]|pre-receive hook declined|protected branch/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `the remote refused the push: ${said}`, hint: 'read the remote\'s reason above (a protected branch or a server hook); labsync never force-pushes' };
  }
  if (/Not possible to fast-forward|diverg/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `local and remote history have diverged: ${said}`, hint: 'merge or rebase by hand (git merge / git rebase), then `labsync code push`; labsync never merges or rebases for you' };
  }
  if (/would be overwritten by merge|Your local changes/i.test(stderr)) return { kind: 'fatal', reason: `local changes stand in the way: ${said}`, hint: 'commit or stash them first' };
  if (/not a git repository/i.test(stderr)) return { kind: 'fatal', safety: true, reason: `the local folder is not a git repository: ${said}` };
  // GitHub: "ERROR: Repository not found."; GitLab: "The project you were looking for could not be found".
  if (/does not appear to be a git repository|repository .*not found|could not be found|No such remote/i.test(stderr)) return { kind: 'fatal', reason: `no such remote repository: ${said}` };
  // git breaks the line inside "cannot" ("can\nnot be found"), then says the remote hung up (the network rule).
  if (/submodule paths contain changes that can\s*not be found on any remote/i.test(stderr)) {
    return { kind: 'fatal', safety: true, reason: `a submodule commit exists only here: ${said}`, hint: 'push the submodule first (git -C <submodule> push), then push again: the commit would name a submodule commit no clone can fetch' };
  }
  if (/nothing to commit/i.test(`${stderr}${output.stdout}`)) return { kind: 'ok' };
  if (NETWORK.test(stderr)) return { kind: 'retry', reason: said };
  if (command.args.includes('lfs') && /\(missing\)|missing or corrupt|Unable to find source/i.test(stderr)) {
    return { kind: 'fatal', reason: `an LFS object is missing: ${said}`, hint: 'the file was committed where its LFS object never arrived; find a clone that has it (git lfs fsck there) and push from it' };
  }
  return { kind: 'fatal', reason: said };
}
