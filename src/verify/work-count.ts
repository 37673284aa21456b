// Per-file work a run did, counted where it is done (issue 12: a run after a small change builds
// objects for the changed files only). Shown in --json as a pair's verify.work; tests count it instead
// of timing. Process-wide: a run's share is the difference across it (pairs of one run may overlap).

export interface Work {
  /** Per-file entries built to plan (both sides). */
  entries: number;
  /** Hash cache rows parsed from a cache file or made to update one. */
  cacheRows: number;
}

export const work: Work = { entries: 0, cacheRows: 0 };

export const workSince = (start: Work): Work => ({ entries: work.entries - start.entries, cacheRows: work.cacheRows - start.cacheRows });
