import { describe, expect, it } from 'vitest';
import { escapeProperty, placeOf } from './github.js';

describe('GitHub annotations', () => {
  const source = { file: 'labsync.yaml', path: '/repo/lab/labsync.yaml', line: 12, col: 5 };
  it("place the pair's line, the manifest relative to the workspace (else the working folder)", () => {
    expect(placeOf(source, { GITHUB_WORKSPACE: '/repo' })).toBe('file=lab/labsync.yaml,line=12,col=5,');
    expect(placeOf(source, {}, '/repo/lab')).toBe('file=labsync.yaml,line=12,col=5,');
    expect(placeOf(source, { GITHUB_WORKSPACE: '/elsewhere' })).toBe('');
    expect(placeOf(undefined, {})).toBe('');
  });
  it('escape the separators of properties', () => {
    expect(escapeProperty('labsync data.raw: refused, 50%')).toBe('labsync data.raw%3A refused%2C 50%25');
  });
});
