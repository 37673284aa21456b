// The order a drain sends its planned files in, shared by rsync's drain (drain-pair.ts) and the
// planned one to S3 (drain-planned.ts).

/** Files per call: the first calls carry 1, 2, 4 … files (the newest exactly first), up to this. */
export const MAX_BATCH = Number(process.env.LABSYNC_DRAIN_BATCH ?? 64) || 64;

/** The planned paths, newest modification time first (ties by path, so the order is the same every run). */
export function newestFirst(paths: readonly string[], mtimeOf: (path: string) => number): string[] {
  return [...paths].sort((a, b) => mtimeOf(b) - mtimeOf(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Batches of 1, 2, 4 … files up to `max`: the newest files go exactly first, the rest in fewer calls. */
export function batches<T>(items: readonly T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0, size = 1; i < items.length; i += size, size = Math.min(size * 2, max)) out.push(items.slice(i, i + size));
  return out;
}
