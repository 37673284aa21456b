// Pure: a plan → the aws-cli commands that move exactly its files. Measured against moto on this
// machine (aws-cli 1.45.11, a 10k × 50 KiB tree; CPU seconds of aws itself, the machine shared):
//   one `s3 cp` per object                          0.82 s per object
//   `s3 cp --recursive --exclude '*' --include K`   1.7 s at K=1, 3.4 s at K=10, 22 s at K=100:
//                                                   every file of the walk is matched against every pattern
//   `s3 cp --recursive` of a folder of K links      0.78 s at K=1, 0.69 s at K=10, 0.99 s at K=100, 4.6 s at K=1000
// So a push sends one object with `s3 cp` and two or more from a staged folder of links to exactly
// the planned files (aws follows links). A pull cannot stage the remote: it copies per object up to
// PULL_PER_OBJECT files and beyond that filters one recursive copy (cost grows with the remote's size).
import { posix } from 'node:path';
import type { PairPlan } from '../../plan/types.js';
import type { ResolvedPair } from '../../types.js';
import type { PlanContext } from '../types.js';
import { globals, s3Remote, s3Url, timeouts, UPLOAD_CHECKSUM } from './argv.js';

export const PULL_PER_OBJECT = 2;
/** Patterns per filtered copy: argv stays far below the kernel's limits whatever the key lengths. */
const INCLUDES_PER_COPY = 500;
/** delete-objects takes 1000 keys; the JSON is one argv word, which Linux caps at 128 KiB. */
const DELETE_KEYS = 1000;
const DELETE_BYTES = 100_000;

/** Where the engine links a push's planned files: inside labsync's own folder, per pair and run. */
export const stageDir = (pair: ResolvedPair, ctx: PlanContext): string => posix.join(pair.root, '.labsync', 'stage', pair.name, ctx.stamp);

export const plannedPaths = (plan: PairPlan): string[] => [...plan.send, ...plan.replace].map((f) => f.path);

export function stagedPushArgv(pair: ResolvedPair, stage: string): string[] {
  return ['s3', 'cp', '--recursive', ...globals(s3Remote(pair)), ...timeouts(pair), ...UPLOAD_CHECKSUM, '--no-progress', '--only-show-errors', '--', stage, s3Url(s3Remote(pair))];
}

/** aws filters are fnmatch patterns: a key's own *, ? and [ are matched literally as [*], [?], [[]. */
export const literalPattern = (key: string): string => key.replace(/[[*?]/g, (c) => `[${c}]`);

export function filteredPullArgvs(pair: ResolvedPair, keys: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let at = 0; at < keys.length; at += INCLUDES_PER_COPY) {
    const includes = keys.slice(at, at + INCLUDES_PER_COPY).flatMap((k) => [`--include=${literalPattern(k)}`]);
    out.push(['s3', 'cp', '--recursive', ...globals(s3Remote(pair)), ...timeouts(pair), '--no-progress', '--only-show-errors', '--exclude', '*', ...includes, '--', s3Url(s3Remote(pair)), pair.local]);
  }
  return out;
}

/** `s3api delete-objects` in batches of at most 1000 keys (and 100 kB of JSON); Quiet: only failures are printed. */
export function deleteObjectsArgvs(pair: ResolvedPair, keys: readonly string[]): string[][] {
  const remote = s3Remote(pair);
  const base = remote.prefix ? `${remote.prefix}/` : '';
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const key of keys) {
    const size = JSON.stringify(base + key).length + 10;
    if (batch.length && (batch.length === DELETE_KEYS || bytes + size > DELETE_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(base + key);
    bytes += size;
  }
  if (batch.length) batches.push(batch);
  return batches.map((b) => [
    's3api', 'delete-objects', ...globals(remote), ...timeouts(pair), '--bucket', remote.bucket,
    '--delete', JSON.stringify({ Objects: b.map((Key) => ({ Key })), Quiet: true }), '--output', 'json',
  ]);
}
