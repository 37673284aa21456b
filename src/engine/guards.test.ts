import { describe, expect, it } from 'vitest';
import { deleteLimit, guardChanges, kindClashRefusal } from './guards.js';
import { computePlan } from '../plan/compute.js';
import type { Listing } from '../plan/types.js';

const listing = (paths: string[]): Listing => ({ entries: paths.map((path) => ({ path, size: 1 })), digest: paths.join() });

const changes = (sourceFiles: number, destFiles: number, deletions: number) => ({
  transfer: [], delete: Array.from({ length: deletions }, (_, i) => `f${i}`), sourceFiles, destFiles,
});

describe('guardChanges', () => {
  it('refuses an empty source for a push or a mirror, not for a plain pull', () => {
    expect(guardChanges({ direction: 'push', mirror: false, maxDelete: { percent: 50 }, changes: changes(0, 5, 0) })).toMatch(/source is empty/);
    expect(guardChanges({ direction: 'pull', mirror: true, maxDelete: { percent: 50 }, changes: changes(0, 5, 5) })).toMatch(/delete everything/);
    expect(guardChanges({ direction: 'pull', mirror: false, maxDelete: { percent: 50 }, changes: changes(0, 5, 0) })).toBeUndefined();
  });
  it('refuses a mirror over max_delete, with the counts', () => {
    expect(guardChanges({ direction: 'push', mirror: true, maxDelete: { percent: 50 }, changes: changes(1, 10, 9) }))
      .toBe('would delete 9 of 10 files at the destination (90%), over max_delete 50%; nothing was deleted. Check the source, or raise max_delete for this pair');
    expect(guardChanges({ direction: 'push', mirror: true, maxDelete: { count: 3 }, changes: changes(6, 10, 4) })).toMatch(/over max_delete 3/);
  });
  it('lets through a mirror at or under the limit, and a copy that deletes nothing', () => {
    expect(guardChanges({ direction: 'push', mirror: true, maxDelete: { percent: 50 }, changes: changes(5, 10, 5) })).toBeUndefined();
    expect(guardChanges({ direction: 'push', mirror: false, maxDelete: { count: 0 }, changes: changes(5, 10, 9) })).toBeUndefined();
  });
  it('leaves a percentage to the tool when the destination cannot be counted, but applies a count', () => {
    const bisync = { transfer: [], delete: ['a', 'b', 'c'] };
    expect(guardChanges({ direction: 'bisync', mirror: true, maxDelete: { percent: 50 }, changes: bisync })).toBeUndefined();
    expect(guardChanges({ direction: 'bisync', mirror: true, maxDelete: { count: 2 }, changes: bisync })).toMatch(/^would delete 3 files on the two sides, over max_delete 2;/);
  });
  it('judges a bisync\'s deletions on both sides against what both held after the last sync', () => {
    const bisync = { transfer: [], delete: ['a', 'b', 'c', 'f', 'g', 'h'], destFiles: 10 };
    expect(guardChanges({ direction: 'bisync', mirror: true, maxDelete: { percent: 50 }, changes: bisync })).toMatch(/would delete 6 files on the two sides, of the 10 they held after the last sync \(60%\), over max_delete 50%/);
    expect(guardChanges({ direction: 'bisync', mirror: true, maxDelete: { percent: 50 }, changes: { ...bisync, delete: ['a', 'f'] } })).toBeUndefined();
  });
  it('computes limits', () => {
    expect(deleteLimit({ percent: 10 }, 99)).toBe(9);
    expect(deleteLimit({ count: 4 }, 1)).toBe(4);
  });
  it('a path that is a file on one side and a folder on the other, in a pair that deletes nothing, is refused naming it', () => {
    const plan = computePlan(listing(['x/f', 'y']), listing(['x', 'y/g']), { mirror: false, kinds: true });
    expect(plan.kindClashes).toEqual(['x', 'y']);
    // A listing not in byte order (an rclone remote's) is searched another way, to the same answer.
    expect(computePlan(listing(['x/f', 'y']), listing(['y/g', 'x']), { mirror: false, kinds: true }).kindClashes).toEqual(['x', 'y']);
    expect(kindClashRefusal(plan)).toMatch(/^x, y are a file on one side and a folder on the other; this pair deletes nothing/);
    // A mirror counts the destination's side as a deletion (max_delete judges it): no refusal.
    expect(computePlan(listing(['x/f']), listing(['x']), { mirror: true, kinds: true }).kindClashes).toBeUndefined();
    // An object store holds both keys: no clash is looked for there.
    expect(computePlan(listing(['x/f']), listing(['x']), { mirror: false }).kindClashes).toBeUndefined();
    expect(kindClashRefusal(computePlan(listing(['a/f']), listing(['a/g', 'b']), { mirror: false, kinds: true }))).toBeUndefined();
  });
});
