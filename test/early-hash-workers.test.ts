// How many hash workers a first push's early reads boot (each boot costs CPU the transfer's processes
// need on a 2-core machine): the pool's own worker script from the build, counted by the pool.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashWhileSending, withEarly } from '../src/engine/early-hash.js';
import { cachedSha } from '../src/engine/sides.js';
import { HashPool } from '../src/verify/hash-pool.js';
import { oldSide as tree } from '../src/engine/old-side.fixture.js';

const WORKER = new URL('../dist/hash-worker.js', import.meta.url); // built by the global setup


const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('the early reads and the hash workers', () => {
  it('while the transfer runs, one batch is out at a time: the pool boots one worker, and every file is read once, right', async () => {
    const { side, files, bodies } = await tree(2000); // 8 batches
    await new Promise((r) => setTimeout(r, 1100)); // past the racy window of the ctimes utimes just set
    const pool = HashPool.start(2, WORKER, true);
    try {
      const early = hashWhileSending(side, files, (batch) => pool.run(batch));
      // The transfer reports its bytes as it goes; it has not ended when the last read is done.
      for (let sent = 0; sent < 4; sent++) early.sent(sent * 1000);
      const got = await early.done;
      expect(pool.booted).toBe(1);
      expect(got.files).toBe(2000);
      // Each digest crossed from the worker as bytes, into the side's cache (the files' ctimes are past the racy window).
      expect(got.fresh.size).toBe(0);
      const seen = withEarly(side, got);
      side.paths.forEach((p, i) => expect(cachedSha(seen, i)).toBe(sha(bodies.get(p) as string)));
      early.end(true); // after done: reads nothing more
    } finally {
      await pool.close();
    }
  });

  it('the pool boots a second worker only when a batch comes while the first is busy; warm() boots them all', async () => {
    const { side } = await tree(600);
    const batch = { op: 'hash', root: side.path, paths: [...side.paths], sha256: true } as const;
    const lazy = HashPool.start(2, WORKER, true);
    const eager = HashPool.start(2, WORKER);
    try {
      expect(lazy.booted).toBe(0);
      const one = await lazy.run(batch);
      await lazy.run(batch); // the first is idle again: it takes this one too
      expect(lazy.booted).toBe(1);
      const both = await Promise.all([lazy.run(batch), lazy.run(batch), lazy.run(batch)]);
      expect(lazy.booted).toBe(2); // never more than its threads
      for (const r of both) expect(r.sha256).toEqual(one.sha256);
      expect(eager.booted).toBe(2);
      const warmed = HashPool.start(2, WORKER, true).warm();
      expect(warmed.booted).toBe(2);
      await warmed.close();
    } finally {
      await Promise.all([lazy.close(), eager.close()]);
    }
  });

  it('a lazy pool whose workers all died reads on this thread, and does not boot past its threads', async () => {
    const { side } = await tree(300);
    const batch = { op: 'hash', root: side.path, paths: [...side.paths], sha256: true } as const;
    const pool = HashPool.start(1, WORKER, true);
    try {
      const expected = (await pool.run(batch)).sha256;
      await pool.stopWorker(0);
      await new Promise((r) => setTimeout(r, 50)); // its exit is seen
      expect((await pool.run(batch)).sha256).toEqual(expected);
      expect(pool.booted).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
