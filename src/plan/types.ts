// The plan as a value (issue 12): what a run will send, replace and delete, computed by labsync
// from one listing of each side and its caches, the same shape for every backend. The guard,
// `--dry-run`, `plan --save`/`apply`, the transfer and the verify all read this one value.
import type { Entry } from '../verify/compare.js';

/** Why a file is in the plan: a user reads this in `--dry-run -v` and in a saved plan. */
export type PlanReason =
  | 'missing' // not at the destination
  | 'size' // sizes differ
  | 'mtime' // same size, different modification time (the tools' quick check)
  | 'content' // same size and mtime, different content: a corruption the quick check misses
  | 'extra'; // at the destination only (a mirror deletes it)

export interface PlannedFile {
  /** Relative to the pair's roots, '/'-separated. */
  readonly path: string;
  /** Bytes the transfer moves (the source's size); for a deletion, the destination's size. */
  readonly size: number;
  readonly reason: PlanReason;
}

/** One side as listed once per run: the entries, and a digest that changes when any entry does. */
export interface Listing {
  readonly entries: readonly Entry[];
  /** sha256 of the canonical listing (path, size, mtime, the side's own checksums per entry, in byte order). */
  readonly digest: string;
}

export interface PairPlan {
  /** New at the destination. */
  readonly send: readonly PlannedFile[];
  /** Already at the destination, overwritten. */
  readonly replace: readonly PlannedFile[];
  /** Only at the destination; deleted after every transfer succeeded (mirrors only). */
  readonly delete: readonly PlannedFile[];
  /** Files in the source and destination listings, for the guard's percentages. */
  readonly sourceFiles: number;
  readonly destFiles: number;
  /** The listings' digests: `apply` refuses a plan whose sides no longer match them. */
  readonly sourceDigest: string;
  readonly destDigest: string;
  /**
   * Not a mirror: paths that are a file on one side and a folder on the other (`x` here, `x/f` there).
   * Sending would delete the destination's file or folder though the pair deletes nothing: refused.
   */
  readonly kindClashes?: readonly string[];
}
