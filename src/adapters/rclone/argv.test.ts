import { describe, expect, it } from 'vitest';
import { traverses, asRclonePattern } from './argv.js';

describe('rclone planned transfer: list the destination or look up each file', () => {
  it('lists for a first push or a large share of the destination, looks up a few files in a large one', () => {
    expect(traverses(10_000, 0)).toBe(true);
    expect(traverses(2, 0)).toBe(true);
    expect(traverses(1, 0)).toBe(false);
    expect(traverses(1, 10_000)).toBe(false);
    expect(traverses(1000, 10_000)).toBe(false);
    expect(traverses(1002, 10_000)).toBe(true);
  });
});

describe('exclude patterns in rclone\'s dialect', () => {
  it('a negated class is [^…] there, {a,b} plain text; the rest as written (rclone lsf and rsync -n agree on the results)', () => {
    expect(['[!a]bc', '*.{tmp,log}', 'v[0-9]', 'a\\{b', '**/cache/'].map(asRclonePattern)).toEqual(['[^a]bc', '*.\\{tmp,log\\}', 'v[0-9]', 'a\\{b', '**/cache/']);
  });
});
