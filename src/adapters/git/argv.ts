// Pure: a code pair → git argv. Never a force push; pulls are fast-forward only.
import type { ResolvedPair } from '../../types.js';
import { sshKeepAlive } from '../bounds.js';

export interface GitTarget { readonly remote: string; readonly branch: string; readonly privateRef: string }

export function target(pair: ResolvedPair, branch: string): GitTarget {
  if (pair.remote.type !== 'git') throw new Error(`git needs a git remote (pair ${pair.name})`);
  // Fetched into a ref of labsync's own: FETCH_HEAD and the user's remote-tracking refs stay as they were.
  return { remote: pair.remote.url, branch, privateRef: `refs/labsync/${pair.name}` };
}

/**
 * Never prompt (cron, CI): no terminal prompts, ssh in BatchMode on top of any user setting, and
 * keepalives so a silent server ends the push instead of hanging it (the user's own -o values win).
 */
export function gitEnv(userSsh: string | undefined, stallTimeoutMs: number): Record<string, string> {
  const seconds = String(Math.max(1, Math.ceil(stallTimeoutMs / 1000)));
  return {
    GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: [userSsh ?? 'ssh', '-o', 'BatchMode=yes', ...sshKeepAlive(stallTimeoutMs)].join(' '),
    // Over https: a server that sends nothing for the stall timeout ends the fetch or push; Git
    // Credential Manager never opens a window or a prompt.
    GIT_HTTP_LOW_SPEED_LIMIT: '1', GIT_HTTP_LOW_SPEED_TIME: seconds, GCM_INTERACTIVE: 'never',
  };
}

/**
 * The ssh command git would run here, which labsync puts BatchMode and keepalives on: GIT_SSH_COMMAND,
 * else the repository's core.sshCommand (a CI deploy key's usual place), else GIT_SSH (a program, no
 * arguments), else ssh. `configured`: core.sshCommand as git reads it for this clone.
 */
export function userSshCommand(env: Readonly<Record<string, string | undefined>>, configured: string | undefined): string | undefined {
  if (env.GIT_SSH_COMMAND) return env.GIT_SSH_COMMAND;
  if (configured) return configured;
  if (env.GIT_SSH) return `'${env.GIT_SSH.replace(/'/g, `'\\''`)}'`;
  return undefined;
}

/**
 * The whole work tree but labsync's own folders, wherever git runs from. Their own .gitignore keeps them
 * out already; this also covers files an older labsync let a user commit (git ignores .gitignore for
 * tracked files). https://git-scm.com/docs/gitglossary#Documentation/gitglossary.txt-aiddefpathspecapathspec
 */
export const NOT_LABSYNC = [':/', ':(top,exclude,glob)**/.labsync/**'];

export const statusArgv = (): string[] => ['status', '--porcelain=v1', '--untracked-files=normal', '--', ...NOT_LABSYNC];
export const fetchArgv = (t: GitTarget): string[] => ['fetch', '--quiet', '--no-tags', '--', t.remote, `+refs/heads/${t.branch}:${t.privateRef}`];
/** "<" commits only here (to push), ">" commits only there (to pull). */
export const aheadBehindArgv = (t: GitTarget): string[] => ['log', '--left-right', '--format=%m %h %s', `HEAD...${t.privateRef}`, '--'];
export const mergeArgv = (t: GitTarget): string[] => ['merge', '--ff-only', '--quiet', t.privateRef];
// A submodule commit that exists only here would make the pushed commit one no clone can check out.
export const pushArgv = (t: GitTarget): string[] => ['push', '--porcelain', '--recurse-submodules=check', '--', t.remote, `HEAD:refs/heads/${t.branch}`];
/** git-lfs reaches a remote that is a plain path only as a file:// URL (its standalone file agent). */
export const lfsRemote = (remote: string): string => (remote.startsWith('/') ? `file://${remote}` : remote);
export const lfsPushArgv = (t: GitTarget): string[] => ['lfs', 'push', lfsRemote(t.remote), t.branch];
export const lfsPullArgv = (t: GitTarget): string[] => ['lfs', 'pull', lfsRemote(t.remote)];
export const commitArgv = (message: string): string[][] => [['add', '--all', '--', ...NOT_LABSYNC], ['commit', '--quiet', '--message', message]];
export const remoteHeadArgv = (t: GitTarget): string[] => ['ls-remote', '--', t.remote, `refs/heads/${t.branch}`];
export const localHeadArgv = (): string[] => ['rev-parse', '--verify', 'HEAD'];
