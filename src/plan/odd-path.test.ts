import { describe, expect, it } from 'vitest';
import { firstOdd, hasOddSegment } from './odd-path.js';

describe('hasOddSegment', () => {
  it('flags empty, "." and ".." segments and leading or trailing slashes; plain names pass', () => {
    for (const odd of ['tmp/../model.bin', '../x', 'a/..', './a', 'a/./b', 'a//b', '/a', 'a/', '..', '.', '']) expect(hasOddSegment(odd), odd).toBe(true);
    for (const plain of ['model.bin', 'a/b/c', '...', 'a/..b', '.hidden/x', 'a b/c+d', 'ü/…']) expect(hasOddSegment(plain), plain).toBe(false);
  });

  it('firstOdd names the first odd path, or none', () => {
    expect(firstOdd(['a', 'b/../c', 'd//e'])).toBe('b/../c');
    expect(firstOdd(['a', 'b/c'])).toBeUndefined();
  });
});
