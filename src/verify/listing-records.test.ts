import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordNow, recordsAt } from './listing-records.js';

const root = mkdtempSync(join(tmpdir(), 'labsync-records-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const find = (): string => execFileSync('find', ['.', '-type', 'f', '-printf', '%s %T@ %C@ %i %P\\0'], { cwd: root }).toString();

describe('a single record of a find listing', () => {
  it('is what find prints for the file, whatever its times and name', () => {
    mkdirSync(join(root, 'd'));
    const files: [string, number][] = [['a', 1_700_000_000.123456], ['d/with space', 5], ['d/ünï ✓', 1_799_999_999.5], ['whole', 1_700_000_000]];
    for (const [p, t] of files) {
      writeFileSync(join(root, p), p);
      utimesSync(join(root, p), t, t);
    }
    const listed = find().split('\0').filter(Boolean).map((r) => `${r}\0`);
    for (const [p] of files) expect(listed).toContain(recordNow(root, p)?.toString());
  });

  it('is gone for nothing there, and none for a folder or a symlink', () => {
    symlinkSync('a', join(root, 'link'));
    expect(recordNow(root, 'nothing')).toBe('gone');
    expect(recordNow(root, 'a/under a file')).toBe('gone');
    expect(recordNow(root, 'd')).toBe(undefined);
    expect(recordNow(root, 'link')).toBe(undefined);
  });

  it('is found in a listing held in parts by its path, not by a longer path ending the same', () => {
    const rec = (p: string): string => `1 1.0 1.0 1 ${p}\0`;
    const parts = [Buffer.from(rec('x b/f') + rec('b/f')), Buffer.from(rec('c'))];
    const few = recordsAt(parts, ['b/f', 'c', 'missing']);
    expect([...few]).toEqual([['b/f', { part: 0, from: rec('x b/f').length, to: rec('x b/f').length + rec('b/f').length }], ['c', { part: 1, from: 0, to: rec('c').length }]]);
    // Past a few paths, one pass over the listing answers the same.
    const many = recordsAt(parts, ['b/f', 'c', ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
    expect(many).toEqual(few);
  });
});
