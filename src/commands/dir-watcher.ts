// Linux: one inotify watch per folder (node's fs.watch), and no state per file. @parcel/watcher keeps
// an entry for every file in native memory: ~290 MB for 1M files here, against ~60 MB for this (the
// folders only). A folder made after the start is walked when it appears, so files written into it
// before its own watch was in place are still reported.
import { type Dirent, existsSync, type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs';
import { join, sep } from 'node:path';
import type { WatchEventType } from './watch-filter.js';

export interface WatchEvent { readonly path: string; readonly type: WatchEventType }
export type OnEvents = (error: Error | null, events: WatchEvent[]) => void;
export interface Subscription { unsubscribe(): Promise<void> }

/** skipDir: an absolute folder path the pair excludes; it gets no watch, nor do its subfolders. */
export function subscribeDirs(root: string, onEvents: OnEvents, skipDir: (path: string) => boolean): Subscription {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const forget = (dir: string): void => {
    for (const [path, w] of watchers) {
      if (path === dir || path.startsWith(`${dir}${sep}`)) {
        w.close();
        watchers.delete(path);
      }
    }
  };

  const onChange = (dir: string, filename: string | Buffer | null): void => {
    if (closed) return;
    if (!existsSync(root)) {
      forget(root);
      onEvents(null, [{ path: root, type: 'delete' }]);
      return;
    }
    if (filename === null) return onEvents(null, [{ path: dir, type: 'update' }]);
    const path = join(dir, filename.toString());
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      forget(path);
      return onEvents(null, [{ path, type: 'delete' }]);
    }
    if (stat.isDirectory() && !watchers.has(path)) onEvents(null, [{ path, type: 'create' }, ...add(path, true)]);
    else onEvents(null, [{ path, type: 'update' }]);
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
        // Out of inotify watches (ENOSPC) or a folder gone meanwhile: at the start that fails the whole
        // subscription (watching part of a tree silently would be worse); later it is reported.
        if (!report) throw error;
        onEvents(error as Error, []);
        continue;
      }
      w.on('error', (error) => {
        forget(dir);
        if (dir === root) onEvents(error, []);
      });
      watchers.set(dir, w);
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (error) {
        if (dir === top && top === root) throw error;
        continue;
      }
      // At the start only folders matter: no path is built for the files (a million joins on a 1M-file tree).
      for (const entry of entries) {
        if (report) {
          const path = join(dir, entry.name);
          found.push({ path, type: 'create' });
          if (entry.isDirectory()) stack.push(path);
        } else if (entry.isDirectory()) stack.push(join(dir, entry.name));
      }
    }
    return found;
  };

  try {
    add(root, false);
  } catch (error) {
    forget(root);
    throw error;
  }
  return {
    unsubscribe: async () => {
      closed = true;
      forget(root);
    },
  };
}
