// What a hash cache is keyed by: a tree's name for its files, and each file's stat key, which a
// remembered hash must match and which is not trusted while it is "racy" (git's term): a file
// changed within a second of the scan is not remembered, because a later change within the same
// timestamp tick would look unchanged.
import { createHash } from 'node:crypto';
import type { Row } from './cache-file.js';

// A second for file systems stamping whole seconds, plus a margin: the kernel stamps with its coarse
// clock, up to a tick (10 ms at HZ=100) behind Date.now() (review 48).
const RACY_WINDOW_MS = 1050;

const TICK_MS = 50;

/**
 * Whether no change after `clockMs` can keep a file's key: a change then gets a ctime of at least the
 * clock less a kernel tick, so on a file system stamping fine times a ctime older than that settles it;
 * one stamping whole seconds (ext4 with 128-byte inodes, ext3, HFS+, NFS from them) keeps the second's
 * ctime for a rewrite of the same size within it, so a whole-second ctime settles only past the racy
 * window (review 48). What rsync's transfer proves, and a hash taken this run is trusted for, rest on it.
 */
export const settledAt = (ctimeMs: number, clockMs: number): boolean => ctimeMs < clockMs - (ctimeMs % 1000 === 0 ? RACY_WINDOW_MS : TICK_MS);

/** Changed too close to `scanStartMs` to be remembered (a later change within the same tick would look unchanged). */
export const isRacy = (mtimeMs: number, ctimeMs: number, scanStartMs: number): boolean => mtimeMs >= scanStartMs - RACY_WINDOW_MS || ctimeMs >= scanStartMs - RACY_WINDOW_MS;

/** Whether a row was remembered for exactly the stat key at `keys[at * 4…]`. */
export const rowHasKey = (r: Row, keys: Float64Array, at: number): boolean =>
  r[1] === keys[at * 4] && r[2] === keys[at * 4 + 1] && r[3] === keys[at * 4 + 2] && r[4] === keys[at * 4 + 3];

/** A short stable name for a tree's files under the cache folder. */
export const treeKey = (root: string): string => createHash('sha256').update(root).digest('hex').slice(0, 16);
