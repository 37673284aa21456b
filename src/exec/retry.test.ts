import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './retry.js';

describe('backoffDelay', () => {
  it('doubles the ceiling each attempt and jitters within its upper half', () => {
    expect(backoffDelay(1, 1000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, () => 1)).toBe(4000);
  });
  it('is capped at a minute', () => {
    expect(backoffDelay(30, 1000, () => 1)).toBe(60_000);
  });
});

describe('sleep', () => {
  it('ends early when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
  });
});
