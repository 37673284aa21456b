import { describe, expect, it } from 'vitest';
import { asRclonePattern, asRcloneRules, traverses } from './argv.js';

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
  it('classes as Go regexp ones that never match "/", members as \\xHH, braces escaped; a pattern no name matches is left out (rclone lsf and rsync -n agree on the results)', () => {
    expect(['[!a]bc', '*.{tmp,log}', 'ckpt[!_]*', '[]]x', 'q[!]]r', '[[:digit:]]*', '[z-a]x', 'v[0-9]', '**/cache/'].map(asRclonePattern)).toEqual([
      '[^/\\x61]bc', '*.\\{tmp,log\\}', 'ckpt[^/\\x5f]*', '[\\x5d]x', 'q[^/\\x5d]r', '[[:digit:]]*', '[\\x7a]x', 'v[\\x30-\\x39]', '**/cache/',
    ]);
    // A pattern with none of * ? [ is a name, backslashes and braces too (rsync compares it as it is).
    expect(asRclonePattern('a\\{b')).toBe('a\\\\\\{b');
    // An unclosed or an empty class: rsync matches no name; rclone is not given it.
    expect([asRclonePattern('[!]'), asRclonePattern('a[/]b'), asRclonePattern('[[:nope:]]x')]).toEqual([undefined, undefined, undefined]);
  });
  it('a name without a trailing / leaves its folder out with all in it; a leading **/ matches at the top too (test/exclude-dialects.test.ts runs both tools)', () => {
    expect(asRcloneRules('.git')).toEqual(['.git', '.git/**']);
    expect(asRcloneRules('cache/')).toEqual(['cache/']);
    expect(asRcloneRules('**/*.tmp')).toEqual(['*.tmp', '*.tmp/**']);
    // Anchored, a folder is needed (rsync 3.5 -n); `**/` alone is every folder.
    expect(asRcloneRules('/**/c.tmp')).toEqual(['/**/c.tmp', '/**/c.tmp/**']);
    expect(asRcloneRules('**/')).toEqual(['**/']);
    expect(asRcloneRules('[!]')).toEqual([]);
  });
});
