import { describe, expect, it } from 'vitest';
import { readWhileWaiting } from './local-ahead.js';
import type { Listed, Side } from './sides.js';

/** A side whose listing and cache count how often they are read (what the plan would parse and open). */
function countedSide(missing = false, throws = false, links = 0): { side: Side; reads: () => number } {
  let reads = 0;
  const side = {
    missing,
    links,
    get paths() {
      reads++;
      if (throws) throw new Error('damaged listing');
      return ['a'];
    },
    get cache() {
      reads++;
      return {};
    },
  } as unknown as Side;
  return { side, reads: () => reads };
}

const pending = (): Promise<Listed> => new Promise<Listed>(() => undefined);

describe('a first push reads its local listing while the host is still listing', () => {
  it('reads the listing and the cache when the local side is listed first', async () => {
    const { side, reads } = countedSide();
    await readWhileWaiting(Promise.resolve(side), pending());
    expect(reads()).toBe(2);
  });

  it('leaves them to the plan when the host answered first', async () => {
    const { side, reads } = countedSide();
    const there = Promise.resolve({ unsupported: 'x' } as Listed);
    await there;
    await readWhileWaiting(Promise.resolve(side), there);
    expect(reads()).toBe(0);
  });

  it('does nothing for a missing folder, one holding symlinks, a failed listing, or a host that failed first', async () => {
    const missing = countedSide(true);
    await readWhileWaiting(Promise.resolve(missing.side), pending());
    expect(missing.reads()).toBe(0);
    const linked = countedSide(false, false, 2);
    await readWhileWaiting(Promise.resolve(linked.side), pending());
    expect(linked.reads()).toBe(0);
    await expect(readWhileWaiting(Promise.reject(new Error('find failed')), pending())).resolves.toBeUndefined();
    const failedThere = Promise.reject(new Error('ssh failed'));
    failedThere.catch(() => undefined);
    await failedThere.catch(() => undefined);
    const late = countedSide();
    await readWhileWaiting(Promise.resolve(late.side), failedThere);
    expect(late.reads()).toBe(0);
  });

  it('a listing that cannot be parsed does not throw here: the plan reads it again and says why', async () => {
    const { side, reads } = countedSide(false, true);
    await expect(readWhileWaiting(Promise.resolve(side), pending())).resolves.toBeUndefined();
    expect(reads()).toBe(1);
  });
});
