// labsync's folder in a user's project is made here and only here, so it always carries ignore files of
// its own (as .pytest_cache/ and .venv/ do): whatever the project's .gitignore says, logs, state, locks
// and caches never show in `git status`, and `dvc add` of a folder holding a manifest leaves them out
// (DVC 3 reads a .dvcignore in any folder, but not .gitignore).
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';

export const STATE_DIR_NAME = '.labsync';
const IGNORE_ALL = '# labsync bookkeeping (logs, state, locks, caches): not part of the project\n*\n';
export const MARKERS = ['.gitignore', '.dvcignore'] as const;

/** The `.labsync` folder `dir` lies in (or is), if any. */
function ownFolderOf(dir: string): string | undefined {
  const parts = dir.split(sep);
  const i = parts.lastIndexOf(STATE_DIR_NAME);
  return i < 0 ? undefined : parts.slice(0, i + 1).join(sep) || sep;
}

const marked = new Set<string>();
const exists = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'EEXIST';

/** mkdir -p; when `dir` is in labsync's folder, that folder gets its ignore files (never overwriting the user's). */
export async function makeFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const own = ownFolderOf(dir);
  if (!own || marked.has(own)) return;
  for (const name of MARKERS) await writeFile(join(own, name), IGNORE_ALL, { flag: 'wx' }).catch((e: unknown) => { if (!exists(e)) throw e; });
  marked.add(own);
}

/** The same, for the log file, which is opened synchronously. */
export function makeFolderSync(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const own = ownFolderOf(dir);
  if (!own || marked.has(own)) return;
  for (const name of MARKERS) {
    try {
      writeFileSync(join(own, name), IGNORE_ALL, { flag: 'wx' });
    } catch (e) {
      if (!exists(e)) throw e;
    }
  }
  marked.add(own);
}
