import { describe, expect, it } from 'vitest';
import { bounded } from './bounded.js';

describe('a bounded signal', () => {
  it('aborts after its bound even when nothing else holds it, and says so', async () => {
    const b = bounded(new AbortController().signal, 20);
    // Unreferenced garbage must not matter: force a collection where the runtime exposes one.
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 60));
    expect(b.signal.aborted).toBe(true);
    expect(b.timedOut()).toBe(true);
    expect((b.signal.reason as Error).name).toBe('TimeoutError');
  });
  it('aborts with the outer signal, and done() stops the timer', async () => {
    const outer = new AbortController();
    const b = bounded(outer.signal, 10_000);
    outer.abort();
    expect(b.signal.aborted).toBe(true);
    expect(b.timedOut()).toBe(false);
    b.done();
    const c = bounded(new AbortController().signal, 10);
    c.done();
    await new Promise((r) => setTimeout(r, 30));
    expect(c.signal.aborted).toBe(false);
  });
});
