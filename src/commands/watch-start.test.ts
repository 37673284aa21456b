import { describe, expect, it } from 'vitest';
import { AskerClosed, type Place } from './folder-asker.js';
import { untilAnswered, within } from './watch-start.js';

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

describe('untilAnswered', () => {
  const place: Place = { local: '/l', top: '/l', id: '1:2' };

  it('asks again when the first question fails (its helper lost), and gives that answer; a rejected first question is no unhandled rejection (review 62: it ended watch)', async () => {
    let asked = 0;
    const got = await untilAnswered(Promise.reject(new Error('the folder looks\' helper ended (SIGKILL)')), async () => (asked++, place), new AbortController().signal);
    expect(got).toEqual(place);
    expect(asked).toBe(1);
  });

  it('ends with undefined once the asker is closed or the watch stops, asking no more', async () => {
    let asked = 0;
    expect(await untilAnswered(Promise.reject(new AskerClosed()), async () => (asked++, place), new AbortController().signal)).toBeUndefined();
    const stop = new AbortController();
    const waiting = untilAnswered(new Promise<Place>(() => undefined), async () => (asked++, place), stop.signal);
    stop.abort();
    expect(await waiting).toBeUndefined();
    expect(asked).toBe(0);
  });
});
