// The current branch, read from the repository's HEAD file (cheaper than a process per build, and
// works for worktrees, where .git is a file pointing at the real git dir).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

function gitDir(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const dotgit = join(dir, '.git');
    if (existsSync(dotgit)) {
      if (statSync(dotgit).isDirectory()) return dotgit;
      const m = /^gitdir: (.+)$/m.exec(readFileSync(dotgit, 'utf8'));
      if (m) return isAbsolute(m[1] as string) ? (m[1] as string) : resolve(dir, m[1] as string);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The checked-out branch, or undefined when HEAD is detached or this is not a repository. */
export function currentBranch(local: string): string | undefined {
  const dir = gitDir(local);
  if (!dir) return undefined;
  try {
    return /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(dir, 'HEAD'), 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** The commit HEAD names (loose ref, a worktree's common dir, or packed-refs); undefined outside a repository. */
export function headCommit(local: string): string | undefined {
  const dir = gitDir(local);
  if (!dir) return undefined;
  try {
    const head = readFileSync(join(dir, 'HEAD'), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
    const common = existsSync(join(dir, 'commondir')) ? resolve(dir, readFileSync(join(dir, 'commondir'), 'utf8').trim()) : dir;
    for (const d of [dir, common]) {
      if (existsSync(join(d, ref))) return readFileSync(join(d, ref), 'utf8').trim();
    }
    const packed = join(common, 'packed-refs');
    if (!existsSync(packed)) return undefined;
    return readFileSync(packed, 'utf8').split('\n').map((l) => l.split(' ')).find(([, name]) => name === ref)?.[0];
  } catch {
    return undefined;
  }
}
