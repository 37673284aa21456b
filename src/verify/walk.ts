// The files of a local tree, by lstat: symlinks are never followed (no loops, nothing outside the tree).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compileExcludes } from './glob.js';

export interface LocalFile { readonly path: string; readonly size: number; readonly mtimeMs: number }

/** Every regular file under `root` (relative paths, "/"-separated, sorted), minus `excludes`. */
export async function walkFiles(root: string, excludes: readonly string[]): Promise<LocalFile[]> {
  const matcher = compileExcludes(excludes);
  const out: LocalFile[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw error;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(dir, name));
      if (s.isDirectory()) {
        if (!matcher.excludes(path, true)) await visit(join(dir, name), path);
      } else if (s.isFile() && !matcher.excludes(path, false)) out.push({ path, size: s.size, mtimeMs: s.mtimeMs });
    }
  };
  await visit(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
