// What changed at a local source since its listing began (listing-after.ts takes its listing after a
// transfer from this): the files and folders find names by ctime (verify/changed-since.ts), or, where
// ctime cannot be trusted to have caught every change, undefined, and the source is listed whole as
// before. LABSYNC_TRACE=1 marks why.
import { lstatSync, statSync } from 'node:fs';
import type { ResolvedPair } from '../types.js';
import { changedSince, type Changed } from '../verify/changed-since.js';
import { allLocal, treeMounts } from '../verify/mount-types.js';
import { mark } from '../util/trace.js';
import { treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';

/**
 * Before the listing began, by two seconds: the kernel stamps ctime from its coarse clock (a tick or so
 * behind Date.now()), and ext2/ext3 (ext4 with 128-byte inodes, reiserfs) keep ctime in whole seconds.
 */
export const MARGIN_MS = 2000;

/**
 * A wall clock stepped back by more than this since the listing (against the monotonic clock): changes
 * since may be stamped before the margin. The two ends are compared: a step back and forward again
 * within one run (a net step under this) is not seen.
 */
export const STEP_MS = 500;

/** The newest ctime of the root: the folder's (its entries) and, where it is a symlink, the link's (pointed elsewhere); Infinity where it cannot be read. */
export function rootCtime(path: string): number {
  try {
    return Math.max(lstatSync(path).ctimeMs, statSync(path).ctimeMs);
  } catch {
    return Infinity;
  }
}

/** Why the side's changes cannot be taken from ctime (it is listed whole), or undefined. */
export function wholeWhy(side: Side, since: number): string | undefined {
  if (process.env.LABSYNC_SOURCE_AFTER === 'whole') return 'LABSYNC_SOURCE_AFTER=whole';
  if (side.monoMs === undefined || side.mounts === undefined) return 'its clock and mounts not known';
  if (Date.now() - side.nowMs < performance.now() - side.monoMs - STEP_MS) return 'the wall clock stepped back';
  const mounts = treeMounts(side.path);
  if (mounts !== side.mounts) return 'a mount inside it came or went';
  if (!allLocal(mounts)) return 'not on a local file system';
  // The root's own entries changed: removals there have no ctime of their own (listing-patch.ts would list it all again anyway).
  if (rootCtime(side.path) > since) return 'its root changed';
  return undefined;
}

/** What changed at the side (a local tree listed by find) since its listing began; undefined: list it whole. */
export function changedAfter(pair: ResolvedPair, side: Side): Promise<Changed | undefined> | undefined {
  const since = side.nowMs - MARGIN_MS;
  const why = wholeWhy(side, since);
  if (why) return void mark(`source listed whole: ${why}`);
  return changedSince(side.path, treeExcludes(pair), since).then((changed) => {
    // A mount made during the walk: its files' old ctimes were passed over.
    const why = typeof changed === 'string' ? changed : changed.folders.includes('') ? 'its root changed' : treeMounts(side.path) !== side.mounts ? 'a mount inside it came or went' : undefined;
    if (why) return void mark(`source listed whole: ${why}`);
    return changed as Changed;
  });
}
