// find's records under a few folders of a tree (listing-patch.ts): one find reads the folders from its
// standard input (-files0-from: any name, none taken for an option) and prints their subtrees as the
// whole tree's find would; its output is cut per folder. A host's find is asked the same way over ssh
// (adapters/rsync/held-after.ts) and its answer cut here too.
import { findUnderArgv } from './find-list.js';
import { isUnder } from './listing-records.js';
import { runFind } from './find-run.js';

/** find processes this one spawned (the tests count them). */
export const folderListings = { n: 0 };

/**
 * Whether find takes -files0-from (GNU findutils 4.9 on; Ubuntu 22.04 and RHEL 9 ship 4.8): one that
 * said no (or no find at all) is not asked again in this process, as stat-tree.ts's findWorks.
 */
export const filesFrom = { works: process.env.LABSYNC_FIND !== '0' };

/** find's records of the folders' subtrees, in the order given, cut per folder; undefined: find failed, or a symlink. */
export function listUnder(root: string, excludes: readonly string[], dirs: readonly string[]): Promise<Buffer[] | undefined> {
  if (!dirs.length) return Promise.resolve([]);
  if (!filesFrom.works) return Promise.resolve(undefined);
  const [, ...args] = findUnderArgv(excludes);
  folderListings.n++;
  return runFind(args, root, 'folders', Buffer.from(dirs.map((d) => `${d}\0`).join(''))).then(({ code, out, stderr }) => {
    // "unknown predicate `-files0-from'" (findutils 4.8), or no find: another failure (a folder gone meanwhile) is asked again next time.
    if (code === 127 || (code !== 0 && /files0-from/.test(stderr))) filesFrom.works = false;
    return code === 0 ? cutPerDir(out, dirs) : undefined;
  });
}

/** find's output over `dirs` (in their order) cut at each folder's first record; undefined: a record of none, or a symlink. */
export function cutPerDir(out: Buffer, dirs: readonly string[]): Buffer[] | undefined {
  const cuts: Buffer[] = [];
  let at = 0;
  for (const dir of dirs) {
    const prefix = Buffer.from(`${dir}/`);
    const from = at;
    for (let e = out.indexOf(0, at); e >= 0 && isUnder(out, at, e, prefix); e = out.indexOf(0, at)) at = e + 1;
    cuts.push(out.subarray(from, at));
  }
  return at === out.length ? cuts : undefined;
}
