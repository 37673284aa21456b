import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows, writeRows, type Row } from './cache-file.js';
import { rewriteCache } from './cache-update.js';
import { sumsDigestOf } from './sums-file.js';
import { contentDigest } from './tree-summary.js';

const SHA = (n: number): string => n.toString(16).padStart(64, '0');
const row = (path: string, n: number): Row => [path, n, 1_600_000_000_000.125 + n, 1_600_000_000_000.5, 1000 + n, SHA(n), '', '', 0];
const sums = (rows: readonly { path: string; sha256: string }[]): string => sumsDigestOf(rows.map((r) => r.path), (i) => rows[i]?.sha256) as string;
const files = (rows: readonly Row[]) => rows.map((r) => ({ path: r[0], size: r[1], sha256: r[5] }));

describe('rewriteCache', () => {
  const rows = ['a', 'b\ttab', 'c/d', 'c/e\\x', 'z', 'é'].map((p, i) => row(p, i + 1));

  it('puts the changed rows in place and digests the tree before and after, as if summed up whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cu-'));
    const file = join(dir, 'c.hashes');
    await writeRows(file, '/root', rows);
    const changed = row('c/d', 99);
    const racy = { path: 'new', size: 5, sha256: SHA(5) };
    const r = await rewriteCache(file, '/root', { rows: new Map([['c/d', changed], ['é', null], ['new', null], ['aa', row('aa', 7)]]), racyBefore: [], racyNow: [racy], sums: true });
    const got: Row[] = [];
    expect(readRows(file, (x) => got.push(x))).toBe('/root');
    const cached = [rows[0], row('aa', 7), rows[1], changed, rows[3], rows[4]] as Row[];
    expect(got).toEqual(cached);
    const now = [...files(cached), racy].sort((x, y) => (x.path < y.path ? -1 : 1));
    expect(r).toMatchObject({ before: contentDigest(files(rows)), beforeFiles: 6, content: contentDigest(now), sums: sums(now), files: 7 });
    expect(r.cacheKey).toEqual([statSync(file).size, statSync(file).mtimeMs, statSync(file).ctimeMs, statSync(file).ino]);
    expect(readdirSync(dir)).toEqual(['c.hashes']);
    // The racy row is the summary's, not the file's: next time it is part of "before".
    const again = await rewriteCache(file, '/root', { rows: new Map(), racyBefore: [racy], racyNow: [], sums: false, cacheKey: [0, 0, 0, 0] });
    expect(again).toMatchObject({ before: contentDigest(now), beforeFiles: 7, files: 6 });
    expect(again.sums).toBeUndefined();
    // Untouched since written with its summary (same stat key): not digested again.
    const trusted = await rewriteCache(file, '/root', { rows: new Map(), racyBefore: [], racyNow: [], sums: false, cacheKey: again.cacheKey });
    expect(trusted.before).toBeUndefined();
  });

  it('a cache many reads long (lines and characters cut at every boundary) digests as if summed up whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cu-'));
    const file = join(dir, 'c.hashes');
    // ~200 bytes a row with multibyte names: lines and characters fall across the 64 KiB reads.
    const many = Array.from({ length: 6000 }, (_, i) => row(`dir-é✓-${String(i).padStart(5, '0')}/${'ü'.repeat(i % 13)}file.bin`, i + 1));
    await writeRows(file, '/root', many);
    expect(statSync(file).size).toBeGreaterThan(12 * 65536);
    const changed = row(many[4500]?.[0] as string, 99_999);
    const r = await rewriteCache(file, '/root', { rows: new Map([[changed[0], changed]]), racyBefore: [], racyNow: [], sums: true });
    const cached = many.map((x, i) => (i === 4500 ? changed : x));
    const got: Row[] = [];
    readRows(file, (x) => got.push(x));
    expect(got).toEqual(cached);
    expect(r).toMatchObject({ before: contentDigest(files(many)), content: contentDigest(files(cached)), sums: sums(files(cached)), files: 6000, lines: 6000 });
  });

  it('refuses another tree\'s cache or a damaged one, leaving it as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cu-'));
    const file = join(dir, 'c.hashes');
    await writeRows(file, '/other', rows);
    const update = { rows: new Map(), racyBefore: [], racyNow: [], sums: true };
    await expect(rewriteCache(file, '/root', update)).rejects.toThrow(/not the hash cache of \/root/);
    writeFileSync(file, 'labsync-hashes\t3\t/root\nno tabs here\n');
    await expect(rewriteCache(file, '/root', update)).rejects.toThrow(/line 2: not a cache row/);
    writeFileSync(file, 'labsync-hashes\t3\t/root\na\t1\t2\t3\t4\t\t\t\t0');
    await expect(rewriteCache(file, '/root', update)).rejects.toThrow(/cut short/);
    await expect(rewriteCache(join(dir, 'none'), '/root', update)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['c.hashes']);
  });
});
