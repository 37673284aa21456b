import { describe, expect, it } from 'vitest';
import { mapPool } from './pool.js';

describe('mapPool', () => {
  it('keeps order and the concurrency limit', async () => {
    let now = 0;
    let peak = 0;
    const out = await mapPool([30, 10, 20, 5], 2, async (ms) => {
      peak = Math.max(peak, ++now);
      await new Promise((r) => setTimeout(r, ms));
      now--;
      return ms * 2;
    });
    expect(out).toEqual([60, 20, 40, 10]);
    expect(peak).toBe(2);
  });
  it('never runs two clashing items at once, and still runs them all', async () => {
    const live = new Set<string>();
    const seen: string[][] = [];
    const inside = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);
    await mapPool(['/lab', '/lab/data/f', '/nas', '/other'], 3, async (p) => {
      live.add(p);
      seen.push([...live]);
      await new Promise((r) => setTimeout(r, 20));
      live.delete(p);
      return p;
    }, inside);
    for (const snapshot of seen) expect(snapshot.includes('/lab') && snapshot.includes('/lab/data/f')).toBe(false);
    expect(seen.flat()).toEqual(expect.arrayContaining(['/lab', '/lab/data/f', '/nas', '/other']));
  });
});
