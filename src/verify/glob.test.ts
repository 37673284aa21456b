import { describe, expect, it } from 'vitest';
import { compileExcludes } from './glob.js';

describe('compileExcludes', () => {
  const m = compileExcludes(['*.tmp', '__pycache__/**', '.DS_Store', '/top-only', 'build/', 'data/*.csv']);
  it('matches at any depth unless anchored', () => {
    expect(m.excludes('a.tmp', false)).toBe(true);
    expect(m.excludes('x/y/a.tmp', false)).toBe(true);
    expect(m.excludes('x/__pycache__/m.pyc', false)).toBe(true);
    expect(m.excludes('sub/.DS_Store', false)).toBe(true);
    expect(m.excludes('top-only', false)).toBe(true);
    expect(m.excludes('sub/top-only', false)).toBe(false);
  });
  it('keeps * inside one segment and honours folder-only patterns', () => {
    expect(m.excludes('data/a.csv', false)).toBe(true);
    expect(m.excludes('data/sub/a.csv', false)).toBe(false);
    expect(m.excludes('build', true)).toBe(true);
    expect(m.excludes('build', false)).toBe(false);
    expect(m.excludes('a.tmpx', false)).toBe(false);
  });
});
