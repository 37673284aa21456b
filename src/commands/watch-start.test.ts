import { describe, expect, it } from 'vitest';
import { within } from './watch-start.js';

describe('within', () => {
  it('gives the value when it comes in time', async () => {
    expect(await within(Promise.resolve(7), 1000, new AbortController().signal)).toBe(7);
  });

  it("says 'late' for work that has not settled in time, and 'stopped' once the stop comes first", async () => {
    const never = new Promise<number>(() => undefined);
    expect(await within(never, 20, new AbortController().signal)).toBe('late');
    const stop = new AbortController();
    const waiting = within(never, 60_000, stop.signal);
    stop.abort();
    expect(await waiting).toBe('stopped');
    expect(await within(Promise.resolve(1), 1000, stop.signal)).toBe('stopped');
  });

  it('passes a failure on', async () => {
    await expect(within(Promise.reject(new Error('boom')), 1000, new AbortController().signal)).rejects.toThrow('boom');
  });
});
