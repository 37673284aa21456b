import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import type { ResolvedPair } from '../types.js';
import { inSlice, lockName, parseShard, runFingerprint, shardFromEnv, shardOf, shardRefusal } from './shard.js';

const paths = Array.from({ length: 10_000 }, (_, i) => `data/part-${String(i).padStart(5, '0')}/shard_${i % 97}.parquet`);

describe('shardOf', () => {
  it('is stable: fixed values that any machine and any later version must reproduce', () => {
    // The first 8 bytes of sha256("a.txt") are 0x18b7cb099a9ea3f5 (sha256sum computes the same).
    expect(shardOf('a.txt', 1)).toBe(0);
    expect(shardOf('a.txt', 2)).toBe(Number(0x18b7cb099a9ea3f5n % 2n));
    expect(shardOf('a.txt', 7)).toBe(Number(0x18b7cb099a9ea3f5n % 7n));
    expect(paths.map((p) => shardOf(p, 5))).toEqual(paths.map((p) => shardOf(p, 5)));
  });

  it('puts every path in exactly one slice', () => {
    for (const n of [1, 2, 3, 8]) {
      for (const p of paths.slice(0, 500)) {
        expect(Array.from({ length: n }, (_, k) => inSlice(p, { index: k, count: n })).filter(Boolean)).toHaveLength(1);
      }
    }
  });

  it('is balanced within 10% of the mean on 10k paths', () => {
    for (const n of [2, 3, 4, 16]) {
      const counts = new Array<number>(n).fill(0);
      for (const p of paths) counts[shardOf(p, n)]! += 1;
      const mean = paths.length / n;
      for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
    }
  });
});

describe('parseShard', () => {
  it('reads K/N', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
  });
  it.each([
    ['4/4', /K must be a whole number from 0 to 3/],
    ['-1/4', /K must be/],
    ['1/0', /N must be a whole number from 1 to 10000/],
    ['a/b', /N must be/],
    ['1.5/4', /K must be/],
    ['01/4', /K must be/],
    ['2', /needs K\/N/],
    ['1/2/3', /needs K\/N/],
    ['', /needs K\/N/],
    ['0/10001', /N must be/],
  ])('refuses %j', (text, message) => {
    expect(() => parseShard(text)).toThrow(UsageError);
    expect(() => parseShard(text)).toThrow(message);
  });
});

describe('shardFromEnv', () => {
  it('takes Slurm only when both the id and the count are set, and only for a pair that is split', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' }, 3)).toEqual({ index: 2, count: 3 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2' }, 3)).toBeUndefined();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_COUNT: '3' }, 3)).toBeUndefined();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' }, undefined)).toBeUndefined();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', LABSYNC_SHARDS: '3' }, undefined)).toEqual({ index: 2, count: 3 });
  });
  it('counts Slurm indices from SLURM_ARRAY_TASK_MIN', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' }, 4)).toEqual({ index: 3, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' }, 4)).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_STEP: '2' }, 4)).toThrow(/not on the array's step/);
    // An irregular list (--array=1,3,5: no step) is not guessed at.
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' }, 3)).toThrow(/K must be a whole number from 0 to 2/);
  });
  it('refuses an array of another size than the pair, and indices out of range', () => {
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' }, 3)).toThrow(/array has 2 tasks .* split into 3 shards; submit it with --array=0-2/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3' }, 3)).toThrow(/K must be a whole number from 0 to 2/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '3' }, 3)).toThrow(/SLURM_ARRAY_TASK_ID must be a whole number/);
  });
  it('takes JOB_COMPLETION_INDEX with N from shards: or LABSYNC_SHARDS, never alone', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1' }, 4)).toEqual({ index: 1, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', LABSYNC_SHARDS: '2' }, undefined)).toEqual({ index: 1, count: 2 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1' }, undefined)).toBeUndefined();
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4' }, 4)).toThrow(/JOB_COMPLETION_INDEX: K must be a whole number from 0 to 3/);
  });
  it('refuses LABSYNC_SHARDS that is not a count or disagrees with the pair', () => {
    expect(() => shardFromEnv({ LABSYNC_SHARDS: 'four' }, undefined)).toThrow(/LABSYNC_SHARDS must be a whole number/);
    expect(() => shardFromEnv({ LABSYNC_SHARDS: '2', JOB_COMPLETION_INDEX: '0' }, 3)).toThrow(/LABSYNC_SHARDS=2 but the pair says shards: 3/);
  });
  it('without any index in the environment, a pair with shards: runs whole', () => {
    expect(shardFromEnv({}, 4)).toBeUndefined();
  });
});

describe('runFingerprint and lockName', () => {
  it('depends on the source listing, not its order', () => {
    const a = [{ path: 'x', size: 1, mtimeMs: 1000 }, { path: 'y', size: 2, mtimeMs: 2000 }];
    expect(runFingerprint('push', true, a)).toBe(runFingerprint('push', true, [...a].reverse()));
    expect(runFingerprint('push', true, a)).not.toBe(runFingerprint('push', false, a));
    expect(runFingerprint('push', true, a)).not.toBe(runFingerprint('push', true, [{ ...a[0]!, size: 3 }, a[1]!]));
  });
  it('names one lock per shard', () => {
    expect(lockName({ name: 'raw' }, undefined)).toBe('raw');
    expect(lockName({ name: 'raw' }, { index: 1, count: 3 })).toBe('raw.shard-1-of-3');
  });
});

describe('shardRefusal', () => {
  const pair = (tool: string, remote: string, extra: Partial<ResolvedPair> = {}): ResolvedPair => ({ name: 'p', category: 'data', tool, remote: { type: remote }, ...extra }) as unknown as ResolvedPair;
  it('splits the pairs labsync plans itself', () => {
    for (const [tool, remote] of [['rsync', 'local'], ['rsync', 'ssh'], ['aws', 's3'], ['rclone', 's3'], ['rclone', 'local']]) {
      for (const d of ['push', 'pull']) expect(shardRefusal(pair(tool as string, remote as string), d)).toBeUndefined();
    }
  });
  it('refuses tools that own their diff, bisync and snapshots, naming the pair', () => {
    expect(shardRefusal(pair('git', 'git'), 'push')).toMatch(/^data\.p cannot run as a shard: git moves the whole repository state itself/);
    expect(shardRefusal(pair('dvc', 's3'), 'pull')).toMatch(/dvc moves the whole repository state/);
    expect(shardRefusal(pair('hf', 'hf'), 'push')).toMatch(/hf moves the whole revision/);
    expect(shardRefusal(pair('mlflow', 'mlflow'), 'push')).toMatch(/mlflow moves the whole model version/);
    expect(shardRefusal(pair('rclone', 'local'), 'bisync')).toMatch(/a bisync is one unit/);
    expect(shardRefusal(pair('rsync', 'local', { snapshots: { keep: 2 } }), 'push')).toMatch(/a snapshot is one dated tree/);
  });
});
