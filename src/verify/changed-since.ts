// What changed in a local tree since a moment (issue 12, "cost grows with the change"): the source's
// listing after a transfer. Any change to a file — its bytes, size, mtime (even set back), a rename or
// link onto its name — moves its ctime to the kernel's clock, which no call on a file can set (only a
// step of the system clock moves it back: listing-after.ts looks for one); a name added,
// removed or renamed in a folder moves the folder's. So one find that stats every entry but prints only
// those whose ctime is past the moment names every file to look at again and every folder whose
// entries may differ (listed again whole, subtree included: a folder moved in from outside the tree
// keeps its files' old ctimes). It costs a walk without the output: ~80 ms against ~110 ms for find of
// the whole listing at 50k files here, and node reads a handful of names instead of 50k records.
// Only on local file systems, the same mounts as when listed (mount-types.ts): a network file system
// stamps ctime with its server's clock, not this machine's.
import { pruneArgs } from './find-list.js';
import { runFind } from './find-run.js';

export interface Changed {
  /** Files whose ctime is past the moment (paths from the tree's root). */
  readonly files: string[];
  /** Folders whose ctime is past it; '' is the tree's root. */
  readonly folders: string[];
}

/** find's -newerct argument for a moment in ms since the epoch: seconds with the fraction it has. */
export const newerArg = (ms: number): string => {
  const whole = Math.floor(ms / 1000);
  return `@${whole}.${String(Math.round((ms - whole * 1000) * 1e6)).padStart(9, '0')}`;
};

/** find's arguments: every entry not in a pruned folder, printed as "<type> <path>\0" when its ctime is past `sinceMs`. */
export function changedArgv(excludes: readonly string[], sinceMs: number): [string, ...string[]] {
  return ['find', '.', ...pruneArgs(excludes), '-newerct', newerArg(sinceMs), '-printf', '%y %P\\0'];
}

/**
 * find's output → the files and folders changed; a string: why the tree is to be listed whole instead —
 * a symlink changed (a listing that holds none would now), or a name that is not UTF-8 (decoded it
 * could name another file).
 */
export function parseChanged(out: Buffer): Changed | string {
  const files: string[] = [];
  const folders: string[] = [];
  const text = out.toString('utf8');
  for (let from = 0, end = text.indexOf('\0'); end >= 0; from = end + 1, end = text.indexOf('\0', from)) {
    const type = text[from];
    const path = text.slice(from + 2, end);
    if (path.includes('\uFFFD')) return 'a name that is not UTF-8 changed';
    if (type === 'f') files.push(path);
    else if (type === 'd') folders.push(path);
    else if (type === 'l') return 'a symlink changed';
    // Sockets, fifos, devices: not in the listing (find lists files and symlinks only).
  }
  return { files, folders };
}

/** The files and folders under `root` changed since `sinceMs`; a string: why to list the tree whole (find failed, or parseChanged's). */
export function changedSince(root: string, excludes: readonly string[], sinceMs: number): Promise<Changed | string> {
  const [, ...args] = changedArgv(excludes, sinceMs);
  return runFind(args, root, 'changed').then(({ code, out, stderr }) => (code === 0 ? parseChanged(out) : `find failed (${stderr.trim().split('\n')[0] || `exit ${code}`})`));
}
