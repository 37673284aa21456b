import { describe, expect, it } from 'vitest';
import type { LockInfo } from '../state/lock.js';
import type { PairRecord } from '../state/store.js';
import { overlapOf } from './check-overlap.js';

const record = (action: string, finishedAt: string): PairRecord => ({ name: 'raw', category: 'data', tool: 'rsync', action, status: 'ok', startedAt: finishedAt, finishedAt, durationMs: 1, attempts: 1, files: 1, bytes: 1 });
const from = Date.parse('2026-12-06T10:00:00Z');
const now = Date.parse('2026-12-06T10:05:00Z');
const live: LockInfo = { pid: 7, host: 'h', bootId: 'b', startedAt: '2026-12-06T10:01:00Z', command: 'data push' };

describe('overlapOf: whether a check that found drift overlapped a run of its pair', () => {
  it('a run holding the lock now: began', () => {
    expect(overlapOf(live, undefined, from, now)).toBe('began');
  });
  it('a push recorded as ended between the check\'s start and its finding: named', () => {
    expect(overlapOf(undefined, record('push', '2026-12-06T10:02:00Z'), from, now)).toBe('a push of this pair ended while it was checked (at 2026-12-06T10:02:00Z)');
  });
  it('a run that ended before the check began, an earlier check, a record stamped in the future, a damaged stamp: the drift stands', () => {
    expect(overlapOf(undefined, record('push', '2026-12-06T09:59:59Z'), from, now)).toBeUndefined();
    expect(overlapOf(undefined, record('check', '2026-12-06T10:02:00Z'), from, now)).toBeUndefined();
    expect(overlapOf(undefined, record('push', '2026-12-06T11:00:00Z'), from, now)).toBeUndefined();
    expect(overlapOf(undefined, record('push', 'yesterday'), from, now)).toBeUndefined();
    expect(overlapOf(undefined, undefined, from, now)).toBeUndefined();
    // A push refused by its guard, or one that found nothing to do, moved no file: the drift stands.
    expect(overlapOf(undefined, { ...record('push', '2026-12-06T10:02:00Z'), status: 'refused' }, from, now)).toBeUndefined();
    expect(overlapOf(undefined, { ...record('push', '2026-12-06T10:02:00Z'), status: 'in_sync' }, from, now)).toBeUndefined();
  });
});
