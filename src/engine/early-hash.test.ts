import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EARLY_MAX_FILE, earlyFiles, hashWhileSending, withEarly } from './early-hash.js';
import type { Side } from './sides.js';
import { oldSide as tree } from './old-side.fixture.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('reading the source while the transfer runs', () => {
  it('reads every planned file once, each hash with the key it was read under, remembered in the side\'s cache', async () => {
    const { side, files, bodies } = await tree(300);
    // Past the racy window of the files' ctimes (just set by utimes), so they are remembered.
    await new Promise((r) => setTimeout(r, 1100));
    const early = hashWhileSending(side, files);
    early.end(true);
    const got = await early.done;
    expect(got.files).toBe(300);
    expect(got.bytes).toBe([...bodies.values()].reduce((n, b) => n + b.length, 0));
    // Each went into the cache as bytes, under exactly the key it was read with; none is kept twice.
    expect(got.fresh.size).toBe(0);
    side.paths.forEach((p, i) => {
      expect(side.cache.lookup(p, side.keys, i)?.[5]).toBe(sha(bodies.get(p) as string));
      expect(side.cache.shaSlot(p, side.keys, i)).toBe(i);
    });
  });

  it('a transfer that failed before the first read: nothing is read, and done still settles', async () => {
    const { side, files } = await tree(20);
    const early = hashWhileSending(side, files);
    early.end(false);
    expect(await early.done).toMatchObject({ files: 0, bytes: 0 });
  });

  it('a planned file gone before its read is skipped (the verify reads and names it), the rest are read', async () => {
    const { side, files, bodies } = await tree(10);
    // Older than a tick: a rewrite after the read would move their (fine) ctimes (cache-key.ts settledAt).
    await new Promise((r) => setTimeout(r, 60));
    const early = hashWhileSending(side, [{ path: 'gone/missing', size: 5, reason: 'missing' }, ...files]);
    early.end(true);
    const got = await early.done;
    expect(got.files).toBe(10);
    expect(got.fresh.has('gone/missing')).toBe(false);
    // Changed just now (ctime): trusted for this run under its key, not remembered, as the verify's own read.
    expect(side.cache.lookup(side.paths[0] as string, side.keys, 0)).toBeUndefined();
    expect(side.racy.size).toBe(10);
    side.paths.forEach((p, i) => {
      expect(got.fresh.get(p)?.sha256).toBe(sha(bodies.get(p) as string));
      expect(got.fresh.get(p)?.key).toEqual([...side.keys.subarray(i * 4, i * 4 + 4)]);
    });
  });

  it('leaves out what is known already (planned for its content) and files too big to stop with the run', () => {
    const picked = earlyFiles({
      send: [{ path: 'a', size: 10, reason: 'missing' }, { path: 'big', size: EARLY_MAX_FILE + 1, reason: 'missing' }],
      replace: [{ path: 'b', size: 5, reason: 'size' }, { path: 'c', size: 5, reason: 'content' }],
    });
    expect(picked.map((f) => f.path)).toEqual(['a', 'b']);
  });

  it('hands the hashes to a side as read in this run, without evaluating its listing or copying them', async () => {
    const { side, files } = await tree(5);
    const early = hashWhileSending(side, files);
    early.end(true);
    const got = await early.done;
    let listed = 0;
    const lazy = Object.defineProperty({ ...side }, 'paths', { get: () => (listed++, side.paths) }) as Side;
    const seen = withEarly(lazy, got);
    expect(listed).toBe(0);
    expect(seen.fresh).toBe(got.fresh);
    expect(seen.freshBytes).toBe(got.bytes);
    expect(seen.paths).toBe(side.paths);
    expect(withEarly(side, undefined)).toBe(side);
  });
});
