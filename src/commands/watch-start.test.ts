import { describe, expect, it } from 'vitest';
import { AskerClosed, type Place } from './folder-asker.js';
import { firstAnswer, untilAnswered, within } from './watch-start.js';

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

describe('firstAnswer', () => {
  const place: Place = { local: '/l', top: '/l', id: '1:2' };
  const lost = (): Promise<Place> => Promise.reject(new Error('the folder looks\' helper ended (SIGABRT)'));

  it('asks again each time the helper is lost, and gives the answer that comes (review 68: a second loss dropped the pair)', async () => {
    let n = 0;
    const got = await firstAnswer(lost().catch((e: Error) => e), () => (++n < 3 ? lost() : Promise.resolve(place)), Date.now() + 5000, new AbortController().signal);
    expect(got.first).toEqual(place);
    expect(n).toBe(3);
  });

  it("is 'late', not an error, when the helper is still being lost at the bound; and an asker closed is said as such", async () => {
    const got = await firstAnswer(lost().catch((e: Error) => e), () => new Promise<Place>((_, reject) => setTimeout(() => reject(new Error('lost')), 30)), Date.now() + 200, new AbortController().signal);
    expect(got.first).toBe('late');
    const closed = await firstAnswer(Promise.resolve(new AskerClosed()), lost, Date.now() + 200, new AbortController().signal);
    expect(closed.first).toBeInstanceOf(AskerClosed);
  });
});
