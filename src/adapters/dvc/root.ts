// Where a dvc pair's repository is: the folder holding the .dvc/ nearest above the pair's folder as
// written. Asked by the adapter (its commands run there), by push's turns and, off its event loop, by
// watch's (commands/watch-filter.ts): the one list of folders to look in, so all three agree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folders a .dvc/ is looked for in, nearest first: from the folder above `local` up to the root. */
export function foldersAbove(local: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(local); ; dir = dirname(dir)) {
    out.push(dir);
    if (dirname(dir) === dir) return out;
  }
}

/** The repository of a dvc pair's folder; undefined: no .dvc/ above it. */
export const dvcRepoSync = (local: string): string | undefined => foldersAbove(local).find((dir) => existsSync(join(dir, '.dvc')));
