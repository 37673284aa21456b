// Lists a tree's regular files in byte order without sorting the whole list: each folder's entries are
// sorted with a "/" after folder names, and a depth-first walk in that order is already the order
// `LC_ALL=C sort` gives the full paths ("a-b" < "a/x" because "-" < "/"). No lstat here: the folder
// listing's types suffice, and the per-file stat calls run on the hash workers.
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { compileExcludes } from './glob.js';

const SURROGATE_OR_HIGH = /[\uD800-\uFFFF]/;

/** Byte order of UTF-8, as `LC_ALL=C sort` and coreutils list files (UTF-16 order differs only past U+D7FF). */
export function byteOrder(a: string, b: string): number {
  if (SURROGATE_OR_HIGH.test(a) || SURROGATE_OR_HIGH.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}


/** Sorts strings in byte order, testing each once rather than at every comparison. */
export function sortBytewise(items: string[]): string[] {
  // Without characters past U+D7FF, UTF-16 order is byte order, and the comparator-less sort is the fastest.
  return items.some((s) => SURROGATE_OR_HIGH.test(s)) ? items.sort(byteOrder) : items.sort();
}

/**
 * A name that is not valid UTF-8 reaches node with U+FFFD in place of its bad bytes, and then names
 * no file: reading it would fail as if the file had vanished, and the file would go unchecked.
 * Such a name is refused, loudly, rather than skipped. (A name really holding U+FFFD still exists.)
 */
export function assertAddressable(root: string, path: string): void {
  if (path.includes('\uFFFD') && !existsSync(`${root}/${path}`)) {
    throw new Error(`${root}/${path}: this name is not valid UTF-8, so labsync cannot read the file; rename it or exclude it`);
  }
}

/**
 * Calls `onFile` with each regular file's path relative to `root` ("/"-separated), in byte order.
 * Symlinks are never followed (so no loop, nothing outside the tree). A missing root lists nothing.
 */
export function walkFiles(root: string, excludes: readonly string[], onFile: (path: string) => void): void {
  const matcher = compileExcludes(excludes);
  const visit = (dir: string, rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw error;
    }
    const keys: string[] = [];
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!matcher.excludes(path, true)) keys.push(`${e.name}/`);
      } else if (e.isFile() && !matcher.excludes(path, false)) keys.push(e.name);
    }
    for (const key of sortBytewise(keys)) {
      if (key.endsWith('/')) {
        const name = key.slice(0, -1);
        visit(`${dir}/${name}`, rel ? `${rel}/${name}` : name);
      } else {
        const path = rel ? `${rel}/${key}` : key;
        assertAddressable(root, path);
        onFile(path);
      }
    }
  };
  visit(root, '');
}

/** Every regular file under `root`, in byte order. */
export function listFiles(root: string, excludes: readonly string[] = []): string[] {
  const out: string[] = [];
  walkFiles(root, excludes, (p) => out.push(p));
  return out;
}
