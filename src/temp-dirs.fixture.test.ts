import { existsSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tempDirs } from './temp-dirs.fixture.js';

// LABSYNC_KEEP_TMP=1 keeps every test's folders on purpose (to look at them after a run).
const keeping = Boolean(process.env.LABSYNC_KEEP_TMP);
const made: string[] = [];

describe('folders made through tempDirs', () => {
  const tempDir = tempDirs();
  it('are there while the tests of the block that asked run, made anew each time', () => {
    made.push(tempDir('td-'), tempDir('td-'));
    expect(made[0]).not.toBe(made[1]);
    expect(made.every((d) => existsSync(d))).toBe(true);
  });
});

describe('after that block', () => {
  it.skipIf(keeping)('they are gone', () => {
    expect(made).toHaveLength(2);
    expect(made.filter((d) => existsSync(d))).toEqual([]);
  });
});

describe('a folder that will not go', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const tried: string[] = [];
  let left = '';
  // Registered before tempDirs' own hook, so it runs after it (hooks run as a stack).
  afterAll(() => {
    const warned = warn.mock.calls.map((c) => String(c[0]));
    warn.mockRestore();
    if (keeping) return;
    rmSync(left, { recursive: true, force: true });
    expect(tried).toEqual([left]);
    expect(warned).toEqual([`left ${left}: EBUSY: resource busy or locked`]);
  });
  const tempDir = tempDirs((dir) => {
    tried.push(dir);
    throw new Error('EBUSY: resource busy or locked');
  });
  it('is named in a warning and fails no test: the run\'s temp root takes it', () => {
    left = tempDir('td-stuck-');
    expect(existsSync(left)).toBe(true);
  });
});
