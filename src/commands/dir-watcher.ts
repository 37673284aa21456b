// Linux: one inotify watch per folder (node's fs.watch), and no state per file. @parcel/watcher keeps
// an entry for every file in native memory: ~290 MB for 1M files here, against ~60 MB for this (the
// folders only). A folder made after the start is walked when it appears, so files written into it
// before its own watch was in place are still reported.
// At the start only folders need a watch, and on the filesystems whose folder link count is exact
// (see folderLinks) a folder's count says how many subfolders it holds: a folder with none is not read
// at all. On a 1M-file tree of 1000 folders that reads 1 folder instead of 1001 (1M names) before watch
// is ready. A folder with subfolders is read whole: stopping once the count is reached could miss one
// when another is made and a third removed during the read.
import { chmodSync, type Dirent, existsSync, type FSWatcher, lstatSync, mkdtempSync, readdirSync, rmSync, statfsSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import type { WatchEventType } from './watch-filter.js';
import { burstWatch, outOfWatches } from './inotify.js';

export interface WatchEvent { readonly path: string; readonly type: WatchEventType }
export type OnEvents = (error: Error | null, events: WatchEvent[]) => void;
export interface Subscription { unsubscribe(): Promise<void> }
/** The work the start took, for tests and the bench: folders watched, folders whose names were read. */
export interface WatchWork { watches: number; foldersRead: number }

// statfs f_type of the filesystems where a folder's st_nlink is 2 + its subfolders, always: ext2/3/4,
// xfs, tmpfs. Not btrfs or overlayfs (they report 1, which reads as "unknown" anyway), nor NFS, CIFS,
// AFS or FUSE, where GNU find's fts does not trust the count either.
const EXACT_LINKS = new Set([0xef53, 0x58465342, 0x01021994]);

/** How many subfolders `dir` holds by its link count, or undefined when its filesystem cannot say. */
export function folderLinks(dir: string, exactByDev: Map<number, boolean>): number | undefined {
  const st = lstatSync(dir);
  let exact = exactByDev.get(st.dev);
  if (exact === undefined) {
    exact = EXACT_LINKS.has(statfsSync(dir).type);
    exactByDev.set(st.dev, exact);
  }
  return exact && st.nlink >= 2 ? st.nlink - 2 : undefined;
}

/** skipDir: an absolute folder path the pair excludes; it gets no watch, nor do its subfolders. */
export function subscribeDirs(root: string, onEvents: OnEvents, skipDir: (path: string) => boolean): Subscription & { readonly work: WatchWork } {
  // Each watch with the folder it was put on: a watch follows its inode, so a folder removed and made
  // again under the same name (`rm -rf out && mkdir out`, `mv ckpt ckpt.old && mkdir ckpt`) must be
  // watched anew, or its writes go unseen (a review found such a folder, and the root, silent for good).
  const watchers = new Map<string, { w: FSWatcher } & Identity>();
  // Folders whose watch could not be placed (out of inotify watches, no permission): said once, looked
  // at again by a rescan only once they are another folder.
  const unwatchable = new Map<string, Identity>();
  const exactByDev = new Map<number, boolean>();
  const work: WatchWork = { watches: 0, foldersRead: 0 };
  let closed = false;
  let spaceSaid = false;

  const forget = (dir: string): void => {
    for (const [path, { w }] of watchers) {
      if (path === dir || path.startsWith(`${dir}${sep}`)) {
        w.close();
        watchers.delete(path);
      }
    }
    // Nor kept as unwatchable once gone (review 53: each rotated checkpoint folder past the limit stayed all day).
    for (const path of unwatchable.keys()) if (path === dir || path.startsWith(`${dir}${sep}`)) unwatchable.delete(path);
  };
  /**
   * A watched folder that is no longer the one watched (gone, or another in its place): watched anew,
   * what it holds reported. A folder made right after another was removed may get its inode number:
   * its birth time tells them apart; where the filesystem keeps none, `dead` (its watch said the folder
   * itself went) does.
   */
  const replaced = (dir: string, dead = false): WatchEvent[] | undefined => {
    const had = watchers.get(dir);
    if (!had) return undefined;
    const now = identityOf(dir);
    if (now && now.ino === had.ino && now.birth === had.birth && !(dead && !had.birth)) return undefined;
    forget(dir);
    if (!now) return dir === root ? [] : [{ path: dir, type: 'delete' }];
    return [{ path: dir, type: 'create' }, ...add(dir, true)];
  };

  const onChange = (dir: string, filename: string | Buffer | null): void => {
    if (closed) return;
    burst.count();
    if (!existsSync(root)) {
      forget(root);
      onEvents(null, [{ path: root, type: 'delete' }]);
      return;
    }
    if (filename === null) return onEvents(null, [{ path: dir, type: 'update' }]);
    const path = join(dir, filename.toString());
    // The event came from a watch on a folder since removed or moved (libuv names the folder itself
    // then), or another folder now has its name: the one there now is watched from here on.
    const dead = filename.toString() === basename(dir) && !existsSync(path);
    const anew = replaced(dir, dead) ?? (dir !== root ? replaced(root) : undefined);
    if (anew) return onEvents(null, anew);
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      // Only a folder has watches to drop (looking through them for every deleted file cost seconds on a big tree).
      if (watchers.has(path) || unwatchable.has(path)) forget(path);
      return onEvents(null, [{ path, type: 'delete' }]);
    }
    if (!stat.isDirectory()) return onEvents(null, [{ path, type: 'update' }]);
    const had = watchers.get(path);
    if (!had) return onEvents(null, [{ path, type: 'create' }, ...add(path, true)]);
    onEvents(null, replaced(path) ?? [{ path, type: 'update' }]);
  };

  /** Watches `dir` and every folder below it; `report`: also return what is inside (a folder made late). */
  const add = (top: string, report: boolean): WatchEvent[] => {
    const found: WatchEvent[] = [];
    const stack = [top];
    while (stack.length) {
      const dir = stack.pop() as string;
      if (watchers.has(dir) || (dir !== root && skipDir(dir))) continue;
      let w: FSWatcher;
      try {
        w = watch(dir, { persistent: true }, (_type, filename) => onChange(dir, filename));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Out of inotify watches at the start fails the whole subscription, saying how to raise the
        // limit (watching part of a tree silently would be worse); so does the folder itself going. A
        // subfolder gone meanwhile (a build's temp folder) is simply not there (review 49: it had failed
        // the pair); one that cannot be watched (a name that is not UTF-8) is said and left out.
        if (!report && (dir === root || code === 'ENOSPC')) throw code === 'ENOSPC' ? outOfWatches(error as Error) : error;
        // A name read back with U+FFFD was not UTF-8: node cannot name that folder to watch it.
        const undecodable = dir.includes('\uFFFD');
        if (code === 'ENOENT' && !report && !undecodable && !existsSync(dir)) continue;
        const id = identityOf(dir);
        if (id || !report) {
          if (id) unwatchable.set(dir, id);
          const why = code === 'ENOSPC' ? outOfWatches(error as Error) : undecodable ? new Error(`${(error as Error).message} (its name is not UTF-8; a run still pushes what it holds)`) : (error as Error);
          // Once per subscription: a tree unpacked past the limit would say it for every folder.
          if (code !== 'ENOSPC' || !spaceSaid) onEvents(unseen(dir, why), []);
          if (code === 'ENOSPC') spaceSaid = true;
        }
        continue;
      }
      w.on('error', (error) => {
        forget(dir);
        const id = identityOf(dir);
        if (id) unwatchable.set(dir, id);
        if (dir === root || id) onEvents(unseen(dir, error), []);
      });
      const id = identityOf(dir);
      if (!id) {
        w.close();
        // A watch placed on a file sees nothing of a tree: said, never silently deaf (review 50).
        if (dir === root && !report) throw new Error(existsSync(root) ? `${root} is not a folder` : `${root}: no such folder (removed as watch started)`);
        continue;
      }
      unwatchable.delete(dir);
      watchers.set(dir, { w, ...id });
      work.watches += 1;
      if (!report) {
        // Counted after the watch is in place: a subfolder made from here on is reported by it.
        let subfolders: number | undefined;
        try {
          subfolders = folderLinks(dir, exactByDev);
        } catch (error) {
          if (dir === root) throw error;
          continue;
        }
        if (subfolders === 0) continue;
        work.foldersRead += 1;
        let names: Dirent[];
        try {
          names = readdirSync(dir, { withFileTypes: true });
        } catch (error) {
          if (dir === root) throw error;
          continue;
        }
        // No path is built for a file: only folders are needed here.
        for (const entry of names) if (entry.isDirectory()) stack.push(join(dir, entry.name));
        continue;
      }
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      work.foldersRead += 1;
      for (const entry of entries) {
        const path = join(dir, entry.name);
        found.push({ path, type: 'create' });
        if (entry.isDirectory()) stack.push(path);
      }
    }
    return found;
  };

  /**
   * After a burst of events (a dataset unpacked, a tree deleted), folders whose creation the kernel's
   * queue dropped (inotify overflows silently through node) have no watch: once the burst settles, the
   * tree is walked again and any folder without one is watched, what it holds reported.
   */
  const rescan = (): void => {
    if (closed || !existsSync(root)) return;
    const found: WatchEvent[] = [];
    const stack = [root];
    const walked = new Set<string>();
    while (stack.length) {
      const dir = stack.pop() as string;
      if (dir !== root && skipDir(dir)) continue;
      walked.add(dir);
      // Removed and made again within the burst, both events dropped with the queue: the old watch
      // follows the old inode and would never report the new folder (review 49).
      const anew = replaced(dir);
      if (anew) {
        found.push(...anew);
        continue;
      }
      if (!watchers.has(dir)) {
        const failed = unwatchable.get(dir);
        const id = failed && identityOf(dir);
        if (!failed || !id || id.ino !== failed.ino || id.birth !== failed.birth) found.push({ path: dir, type: 'create' }, ...add(dir, true));
        continue;
      }
      let names: Dirent[];
      try {
        if (folderLinks(dir, exactByDev) === 0) continue;
        names = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of names) if (entry.isDirectory()) stack.push(join(dir, entry.name));
    }
    for (const dir of [...unwatchable.keys()]) if (!walked.has(dir) && !identityOf(dir)) unwatchable.delete(dir);
    // Watches of folders the walk no longer found (removed in the burst, their events dropped): gone.
    for (const dir of [...watchers.keys()]) {
      if (walked.has(dir) || !watchers.has(dir) || identityOf(dir)) continue;
      forget(dir);
      found.push({ path: dir, type: 'delete' });
    }
    if (found.length) onEvents(null, found);
  };
  const burst = burstWatch(rescan);

  try {
    add(root, false);
  } catch (error) {
    forget(root);
    throw error;
  }
  return {
    work,
    unsubscribe: async () => {
      closed = true;
      burst.stop();
      forget(root);
    },
  };
}

/** A folder as a watch follows it: its inode, and its birth time (0 where the filesystem keeps none). */
interface Identity { readonly ino: number; readonly birth: number }

function identityOf(path: string): Identity | undefined {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? { ino: st.ino, birth: birthTimesReal() ? st.birthtimeMs : 0 } : undefined;
  } catch {
    return undefined;
  }
}

let realBirth: boolean | undefined;
/**
 * Whether this system's birth times are real: without statx (Linux before 4.11, or statx refused by a
 * seccomp filter) libuv gives the ctime instead, which every change in the folder moves: taken for a
 * birth time, every event would look like a new folder (a review). Asked once: a folder's chmod.
 */
function birthTimesReal(): boolean {
  if (realBirth !== undefined) return realBirth;
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'labsync-birth-'));
    const before = lstatSync(dir);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // the ctime must move past the clock's grain
    chmodSync(dir, 0o700);
    const after = lstatSync(dir);
    realBirth = before.birthtimeMs > 0 && after.birthtimeMs === before.birthtimeMs && after.ctimeMs !== before.ctimeMs;
  } catch {
    realBirth = false;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  return realBirth;
}

/** A later watch's failure, saying what it means: changes under the folder are not seen. */
const unseen = (dir: string, error: Error): Error => new Error(`${error.message}: changes under ${dir} are not seen until watch is restarted`);
