import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReceipt } from './receipts.js';
import { describeShardedRun, lastShardedRun, lastWholeSuccess, readReceipts, shardedPairs, type ReadReceipt } from './shard-runs.js';

let seq = 0;
function receipt(over: Partial<ReadReceipt> & { at: number }): ReadReceipt {
  seq += 1;
  const { at, ...rest } = over;
  return {
    pair: 'raw', category: 'data', tool: 'rsync', action: 'push', status: 'ok', startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString(), durationMs: 1000,
    local: '/l', remote: 'r', files: 1, bytes: 10, gitCommit: null, sumsDigest: null, sumsFiles: null, toolVersions: {}, proof: null, bytesHashed: null,
    file: `f${seq}.json`, ...rest,
  };
}
const shard = (index: number, run: string | null, count = 3) => ({ shard: { index, count, run } });

describe('lastShardedRun', () => {
  it('is undefined when the last run was not split', () => {
    expect(lastShardedRun([receipt({ at: 1, ...shard(0, 'A') }), receipt({ at: 2 })], 'raw')).toBeUndefined();
    expect(lastShardedRun([], 'raw')).toBeUndefined();
  });

  it('is complete only when every shard of the run reported ok; files and bytes are summed', () => {
    const all = [0, 1, 2].map((k) => receipt({ at: k, files: k + 1, ...shard(k, 'A') }));
    expect(lastShardedRun(all, 'raw')).toMatchObject({ run: 'A', complete: true, ok: [0, 1, 2], missing: [], failed: [], files: 6, bytes: 30 });
  });

  it('names missing and failed shards, and a rerun of the shard completes the run', () => {
    const some = [receipt({ at: 1, ...shard(0, 'A') }), receipt({ at: 2, status: 'failed', ...shard(2, 'A') })];
    const s = lastShardedRun(some, 'raw');
    expect(s).toMatchObject({ complete: false, ok: [0], missing: [1], failed: [{ index: 2, status: 'failed' }] });
    expect(describeShardedRun(s!)).toBe('incomplete, 1/3 shards ok: shard 1 missing; shard 2 failed');
    const rerun = [...some, receipt({ at: 3, ...shard(1, 'A') }), receipt({ at: 4, ...shard(2, 'A') })];
    expect(lastShardedRun(rerun, 'raw')).toMatchObject({ complete: true });
    expect(describeShardedRun(lastShardedRun(rerun, 'raw')!)).toBe('3/3 shards ok');
  });

  it('a newer run (another source listing) starts over: the old run\'s shards do not count', () => {
    const old = [0, 1, 2].map((k) => receipt({ at: k, ...shard(k, 'A') }));
    expect(lastShardedRun([...old, receipt({ at: 10, ...shard(1, 'B') })], 'raw')).toMatchObject({ run: 'B', ok: [1], missing: [0, 2] });
  });

  it('a shard that stopped before listing counts against the run it came after', () => {
    const got = lastShardedRun([receipt({ at: 1, ...shard(0, 'A') }), receipt({ at: 2, ...shard(1, 'A') }), receipt({ at: 3, status: 'failed', ...shard(2, null) })], 'raw');
    expect(got).toMatchObject({ run: 'A', ok: [0, 1], failed: [{ index: 2, status: 'failed' }] });
  });

  it('reads only this pair, and not checks', () => {
    const got = lastShardedRun([receipt({ at: 1, ...shard(0, 'A') }), receipt({ at: 2, pair: 'other', ...shard(1, 'A') }), receipt({ at: 3, action: 'check', ...shard(1, 'A') })], 'raw');
    expect(got).toMatchObject({ ok: [0], missing: [1, 2] });
  });
});

describe('lastWholeSuccess', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s) + 1000).toISOString();
  it('is the end of the last run that ended whole: unsplit ok, or every shard of a split run ok', () => {
    const whole = receipt({ at: 1 });
    const split = [0, 1, 2].map((k) => receipt({ at: 10 + k, ...shard(k, 'A') }));
    expect(lastWholeSuccess([whole, ...split], 'raw')).toBe(at(12));
    // A newer split run with a shard missing does not count; the older whole one still does.
    expect(lastWholeSuccess([whole, ...split, receipt({ at: 20, ...shard(0, 'B') }), receipt({ at: 21, ...shard(1, 'B') })], 'raw')).toBe(at(12));
    expect(lastWholeSuccess([whole, receipt({ at: 20, ...shard(0, 'B') })], 'raw')).toBe(at(1));
    expect(lastWholeSuccess([receipt({ at: 20, ...shard(0, 'B') })], 'raw')).toBeUndefined();
  });
  it('a failed shard, later rerun ok, completes its run', () => {
    const got = [receipt({ at: 1, ...shard(0, 'A', 2) }), receipt({ at: 2, status: 'failed', ...shard(1, 'A', 2) }), receipt({ at: 5, ...shard(1, 'A', 2) })];
    expect(lastWholeSuccess(got, 'raw')).toBe(at(5));
    expect(lastWholeSuccess(got.slice(0, 2), 'raw')).toBeUndefined();
  });
});

describe('shardedPairs and readReceipts by pair', () => {
  it("tell the pairs with a shard's receipt from the file names alone, and read only the pairs asked for (a pair named as another's suffix apart)", async () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-shardnames-'));
    try {
      expect(await shardedPairs(root)).toEqual(new Set()); // no receipts folder yet
      mkdirSync(join(root, '.labsync', 'receipts'), { recursive: true });
      const { file: _f, ...whole } = receipt({ at: 1 });
      await writeReceipt(root, '2026-01-01T00-00-01.000Z', whole);
      expect(await shardedPairs(root)).toEqual(new Set());
      const { file: _g, ...part } = receipt({ at: 2, ...shard(1, 'A') });
      await writeReceipt(root, '2026-01-01T00-00-02.000Z', part);
      const { file: _h, ...other } = receipt({ at: 3, pair: 'b-raw', ...shard(0, 'B') });
      await writeReceipt(root, '2026-01-01T00-00-03.000Z', other);
      expect(await shardedPairs(root)).toEqual(new Set(['raw', 'b-raw']));
      expect((await readReceipts(root, new Set(['raw']))).map((r) => r.pair)).toEqual(['raw', 'raw']);
      expect((await readReceipts(root, new Set(['b-raw']))).map((r) => r.pair)).toEqual(['b-raw']);
      expect(await readReceipts(root)).toHaveLength(3);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
