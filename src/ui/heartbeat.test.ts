import { afterEach, describe, expect, it, vi } from 'vitest';
import { heartbeat } from './heartbeat.js';

afterEach(() => void vi.useRealTimers());

describe('the heartbeat', () => {
  it('keeps one timer while overlapping runs are on, and stops with the last (review 50: a watch leaked one per overlap, printing twice)', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const beat = heartbeat((t) => void lines.push(t), 1000);
    beat.start();
    beat.started('a');
    beat.start();
    beat.started('b');
    beat.ended('a');
    beat.stop();
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual(['b: still running']);
    beat.ended('b');
    beat.stop();
    beat.start();
    beat.started('c');
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual(['b: still running', 'c: still running']);
    beat.stop();
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
  });
});
