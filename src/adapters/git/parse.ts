// Pure: git's output → what differs.
import type { Changes, VerifyReport } from '../types.js';

/** Paths `git status --porcelain=v1` lists (staged, changed or untracked). */
export function dirtyPaths(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.length > 3).map((l) => l.slice(3).replace(/^"(.*)"$/, '$1'));
}

/** From `git log --left-right --format='%m %h %s' HEAD...remote`: commits to push and to pull. */
export function aheadBehind(stdout: string): { ahead: string[]; behind: string[] } {
  const ahead: string[] = [];
  const behind: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('< ')) ahead.push(line.slice(2));
    else if (line.startsWith('> ')) behind.push(line.slice(2));
  }
  return { ahead, behind };
}

export interface GitLook { readonly dirty: string[]; readonly ahead: string[]; readonly behind: string[]; readonly remoteExists: boolean }

/** The preview's word that the remote has no such branch yet: a sync then only pushes, and a pull has nothing. */
export const NEW_BRANCH = '(a new branch on the remote)';

export function changesFor(direction: 'push' | 'pull' | 'bisync', look: GitLook): Changes {
  const push = look.remoteExists ? look.ahead : [NEW_BRANCH, ...look.ahead];
  const transfer = direction === 'push' ? push : direction === 'pull' ? look.behind : [...look.behind, ...push];
  return { transfer, delete: [] };
}

export function remoteHead(lsRemote: string): string | undefined {
  return /^([0-9a-f]{40,64})\s/m.exec(lsRemote)?.[1];
}

/** Local HEAD against the remote branch; uncommitted changes are what the remote lacks. */
export function verifyReport(lsRemote: string, revParse: string, status: string, branch: string): VerifyReport {
  const there = remoteHead(lsRemote);
  const here = revParse.trim();
  const changed = there === here ? [] : [`${branch}: local ${here.slice(0, 8)}, remote ${there ? there.slice(0, 8) : '(none)'}`];
  return { checked: 1, missing: dirtyPaths(status), extra: [], changed };
}
