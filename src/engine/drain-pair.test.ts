import { describe, expect, it } from 'vitest';
import { batches, newestFirst } from './drain-order.js';
import { budgetMs, stopMargin } from '../commands/drain.js';

describe('drain order and batches', () => {
  it('orders by modification time, newest first, ties by path', () => {
    const mtime: Record<string, number> = { a: 1, b: 3, c: 2, d: 3 };
    expect(newestFirst(['a', 'b', 'c', 'd'], (p) => mtime[p] ?? 0)).toEqual(['b', 'd', 'c', 'a']);
  });
  it('sends 1, 2, 4 … files per call up to the cap, every file once', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(batches(items, 4).map((b) => b.length)).toEqual([1, 2, 4, 4, 4, 4, 1]);
    expect(batches(items, 64).flat()).toEqual(items);
    expect(batches([], 64)).toEqual([]);
  });
});

describe('drain budget', () => {
  it('stops a tenth of the budget early, between 2 s and 10 s', () => {
    expect(stopMargin(4000)).toBe(2000);
    expect(stopMargin(25_000)).toBe(2500);
    expect(stopMargin(600_000)).toBe(10_000);
  });
  it('takes durations of at least 4 s; 25 s by default', () => {
    expect(budgetMs(undefined, '--budget')).toBe(25_000);
    expect(budgetMs('90s', '--budget')).toBe(90_000);
    expect(() => budgetMs('3s', '--budget')).toThrow(/--budget needs a duration of at least 4s/);
    expect(() => budgetMs('90', '--drain-budget')).toThrow(/--drain-budget needs a duration/);
  });
});
