import { describe, expect, it } from 'vitest';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { deletionKey, slicePlan, sliceVerify } from './shard-plan.js';
import { shardOf } from './shard.js';

const paths = Array.from({ length: 300 }, (_, i) => `d${i % 7}/f${i}`);
const plan: PairPlan = {
  send: paths.slice(0, 100).map((path) => ({ path, size: 1, reason: 'missing' })),
  replace: paths.slice(100, 200).map((path) => ({ path, size: 2, reason: 'size' })),
  delete: paths.slice(200).map((path) => ({ path, size: 3, reason: 'extra' })),
  sourceFiles: 200, destFiles: 200, sourceDigest: 's', destDigest: 'd',
};

describe('slicePlan', () => {
  it('splits every list into N disjoint slices whose union is the whole plan; counts and digests stay the whole pair\'s', () => {
    const slices = [0, 1, 2].map((index) => slicePlan(plan, { index, count: 3 }));
    for (const key of ['send', 'replace', 'delete'] as const) {
      const all = slices.flatMap((s) => s[key].map((f) => f.path));
      expect(all.sort()).toEqual(plan[key].map((f) => f.path).sort());
    }
    for (const [k, s] of slices.entries()) {
      expect(s.send.every((f) => shardOf(f.path, 3) === k)).toBe(true);
      expect(s).toMatchObject({ sourceFiles: 200, destFiles: 200, sourceDigest: 's', destDigest: 'd' });
    }
  });
  it('gives a folder the source lacks entirely to one shard whole, and each other deletion by its own path', () => {
    const withFolder: PairPlan = { ...plan, delete: ['gone/a', 'gone/b', 'gone/deep/c', 'kept/x', 'kept/y'].map((path) => ({ path, size: 1, reason: 'extra' })) };
    const key = deletionKey(['kept/z', 'top']);
    expect(['gone/a', 'gone/deep/c', 'kept/x', 'top'].map(key)).toEqual(['gone', 'gone', 'kept/x', 'top']);
    const slices = [0, 1, 2, 3].map((index) => slicePlan(withFolder, { index, count: 4 }, key).delete.map((f) => f.path));
    expect(slices.flat().sort()).toEqual(['gone/a', 'gone/b', 'gone/deep/c', 'kept/x', 'kept/y']);
    const gone = slices.filter((s) => s.some((p) => p.startsWith('gone/')));
    expect(gone).toHaveLength(1);
    expect(gone[0]?.filter((p) => p.startsWith('gone/'))).toHaveLength(3);
  });
});

describe('sliceVerify', () => {
  const pair = { delete: true } as ResolvedPair;
  it('keeps only this slice\'s drift, and is in sync when the drift is all another shard\'s', () => {
    const theirs = paths.filter((p) => shardOf(p, 2) === 1).slice(0, 3);
    const mine = paths.filter((p) => shardOf(p, 2) === 0).slice(0, 2);
    const v = { status: 'drift' as const, checked: 10, missing: theirs, extra: [], changed: [] };
    expect(sliceVerify(v, { index: 0, count: 2 }, pair, 'push')).toMatchObject({ status: 'in_sync', missing: [] });
    expect(sliceVerify({ ...v, changed: mine }, { index: 0, count: 2 }, pair, 'push')).toMatchObject({ status: 'drift', missing: [], changed: mine });
    expect(sliceVerify({ ...v, status: 'skipped' as const }, { index: 0, count: 2 }, pair, 'push').status).toBe('skipped');
  });
  it('answers for a file only the destination has in the slice of the worker that deletes it: a folder the source lacks goes whole', () => {
    // A folder whose name falls in one slice and whose file in the other (found by a review: the file's worker reported drift).
    const folder = Array.from({ length: 50 }, (_, i) => `gone${i}`).find((d) => shardOf(d, 2) === 1 && shardOf(`${d}/x`, 2) === 0) as string;
    const key = deletionKey(['keep']);
    const v = { status: 'drift' as const, checked: 1, missing: [], extra: [`${folder}/x`], changed: [] };
    expect(sliceVerify(v, { index: 0, count: 2 }, pair, 'push', key)).toMatchObject({ status: 'in_sync', extra: [] });
    expect(sliceVerify(v, { index: 1, count: 2 }, pair, 'push', key)).toMatchObject({ status: 'drift', extra: [`${folder}/x`] });
    // A pull deletes what only the local side has: the report's `missing`.
    const pulled = { ...v, missing: [`${folder}/x`], extra: [] };
    expect(sliceVerify(pulled, { index: 0, count: 2 }, pair, 'pull', key)).toMatchObject({ status: 'in_sync', missing: [] });
    expect(sliceVerify(pulled, { index: 1, count: 2 }, pair, 'pull', key)).toMatchObject({ status: 'drift', missing: [`${folder}/x`] });
  });
});
