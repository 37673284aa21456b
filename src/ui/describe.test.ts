import { describe, expect, it } from 'vitest';
import { describeUnproven } from '../engine/compare-pair.js';
import type { PairResult } from '../engine/events.js';
import { describeDetail } from './describe.js';

const result = (over: Partial<PairResult>): PairResult => ({
  name: 'raw', category: 'data', tool: 'aws', action: 'push', status: 'ok', attempts: 1, startedAt: '', durationMs: 1,
  files: 2, bytes: 2, error: null, commands: [], verify: null, warnings: [], ...over,
});

describe('what a pair compared by size only', () => {
  it('is said in the table and in one warning, naming the first files and why', () => {
    const verify = { status: 'in_sync' as const, mode: 'checksum' as const, checked: 5, missing: [], extra: [], changed: [], unproven: ['a', 'b', 'c', 'd'], unprovenReason: 'the store\'s ETags are not MD5s' };
    expect(describeDetail(result({ verify }))).toBe('verified (checksum, 5 files; 4 by size only: content not provable by the store)');
    expect(describeDetail(result({ status: 'in_sync', verify }))).toBe('4 by size only: content not provable by the store');
    expect(describeUnproven(verify)).toBe('content not provable by the store: compared sizes for 4 files (a, b, c, …): the store\'s ETags are not MD5s');
    expect(describeUnproven({ ...verify, unproven: [] })).toBeUndefined();
    expect(describeDetail(result({ verify: { ...verify, unproven: [] } }))).toBe('verified (checksum, 5 files)');
  });
});
