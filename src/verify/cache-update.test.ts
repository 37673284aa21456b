import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows, rowLine, writeRows, type Row } from './cache-file.js';
import { sameUpdate } from '../engine/incremental-remember.js';
import { prepareRewrite, rewriteCache, type CacheUpdate } from './cache-update.js';
import { sumsDigestOf } from './sums-file.js';
import { contentDigest } from './tree-summary.js';
import { byteOrder, sortBytewise } from './walk.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const SHA = (n: number): string => n.toString(16).padStart(64, '0');
const row = (path: string, n: number): Row => [path, n, 1_600_000_000_000.125 + n, 1_600_000_000_000.5, 1000 + n, SHA(n), '', '', 0];
const sums = (rows: readonly { path: string; sha256: string }[]): string => sumsDigestOf(rows.map((r) => r.path), (i) => rows[i]?.sha256) as string;
const files = (rows: readonly Row[]) => rows.map((r) => ({ path: r[0], size: r[1], sha256: r[5] }));

describe('rewriteCache', () => {
  const rows = ['a', 'b\ttab', 'c/d', 'c/e\\x', 'z', 'é'].map((p, i) => row(p, i + 1));

  it('puts the changed rows in place and digests the tree before and after, as if summed up whole', async () => {
    const dir = tempDir('cu-');
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

  it('gives the same rows and digests when the file spans many pieces, names escaped, not ASCII or long', async () => {
    const dir = tempDir('cu-');
    const file = join(dir, 'c.hashes');
    // ~40k rows of ~150 bytes: several 1 MiB pieces, so lines and changes fall across their seams.
    const names = Array.from({ length: 40_000 }, (_, i) => (i === 12_345 ? `d${i}/${'x'.repeat(4500)}` : i % 997 === 0 ? `d${i}/tab\tname` : i % 1009 === 0 ? `d${i}/é-${i}` : `d${i}/f${i}.bin`));
    const all = sortBytewise(names).map((p, i) => row(p, i + 1));
    const byPath = new Map(all.map((x) => [x[0], x]));
    await writeRows(file, '/root', all);
    const pick = (i: number): Row => all[i] as Row;
    const changed = new Map<string, Row | null>([[pick(0)[0], row(pick(0)[0], 90_001)], [pick(7000)[0], null], [pick(20_000)[0], row(pick(20_000)[0], 90_002)], [pick(39_999)[0], null], ['zz-new', row('zz-new', 90_003)], ['d0', null]]);
    for (let i = 0; i < all.length; i += 997) changed.set(pick(i)[0], row(pick(i)[0], 95_000 + i));
    const racy = { path: pick(30_000)[0], size: 3, sha256: SHA(3) };
    changed.set(racy.path, null);
    const r = await rewriteCache(file, '/root', { rows: changed, racyBefore: [], racyNow: [racy], sums: true });
    const expected = sortBytewise([...new Set([...all.map((x) => x[0]), ...changed.keys()])]).flatMap((p) => {
      const c = changed.has(p) ? changed.get(p) : byPath.get(p);
      return c ? [c] : [];
    });
    const got: Row[] = [];
    readRows(file, (x) => got.push(x));
    expect(got).toEqual(expected);
    const now = [...files(expected), racy].sort((x, y) => byteOrder(x.path, y.path));
    expect(r).toMatchObject({ before: contentDigest(files(all)), beforeFiles: all.length, content: contentDigest(now), sums: sums(now), files: now.length });
  });

  it('splices the rows in without digests only into a file that still has its summary\'s stat key', async () => {
    const dir = tempDir('cu-');
    const [a, b] = [join(dir, 'a.hashes'), join(dir, 'b.hashes')];
    const many = Array.from({ length: 30_000 }, (_, i) => row(`d${String(i).padStart(5, '0')}/f`, i + 1));
    await writeRows(a, '/root', many);
    await writeRows(b, '/root', many);
    const key = (f: string): number[] => [statSync(f).size, statSync(f).mtimeMs, statSync(f).ctimeMs, statSync(f).ino];
    const rows = new Map<string, Row | null>([[many[5]![0], row(many[5]![0], 99)], [many[20_000]![0], null], ['d0/new', row('d0/new', 7)]]);
    const racy = { path: many[9]![0], size: 3, sha256: SHA(3) };
    rows.set(racy.path, null);
    const full = await rewriteCache(a, '/root', { rows, racyBefore: [], racyNow: [racy], sums: false, cacheKey: key(a) });
    const spliced = await rewriteCache(b, '/root', { rows, racyBefore: [], racyNow: [racy], sums: false, cacheKey: key(b), digests: false });
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(spliced).toMatchObject({ spliced: true, beforeFiles: full.beforeFiles, files: full.files });
    expect(spliced.content).toBeUndefined();
    expect(full.content).toMatch(/^[0-9a-f]{64}$/);
    // Another stat key (the file is not the one its summary was written with), or sums asked: digested.
    expect((await rewriteCache(b, '/root', { rows: new Map(), racyBefore: [], racyNow: [], sums: false, cacheKey: [0, 0, 0, 0], digests: false })).spliced).toBeUndefined();
    expect((await rewriteCache(b, '/root', { rows: new Map(), racyBefore: [], racyNow: [], sums: true, cacheKey: key(b), digests: false })).sums).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a cache many reads long (lines and characters cut at every boundary) digests as if summed up whole', async () => {
    const dir = tempDir('cu-');
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

  it('digests runs of plain lines in bulk exactly as line by line: changes at the ends and across pieces, odd rows judged one by one', async () => {
    const dir = tempDir('cu-');
    const file = join(dir, 'c.hashes');
    // ~25k rows without an escaped name (some not ASCII): several 1 MiB pieces, every run taken in bulk.
    const plain = sortBytewise(Array.from({ length: 25_000 }, (_, i) => (i % 501 === 0 ? `dé/${i}✓.bin` : `d${i % 40}/f${i}.bin`))).map((p, i) => row(p, i + 1));
    await writeRows(file, '/root', plain);
    const byPath = new Map(plain.map((x) => [x[0], x]));
    const at = (i: number): string => plain[i]![0];
    const changed = new Map<string, Row | null>([[at(0), row(at(0), 80_001)], [at(7000), null], [`${at(7000)}-new`, row(`${at(7000)}-new`, 80_002)], [at(24_999), row(at(24_999), 80_003)], ['zzz', row('zzz', 80_004)], ['0first', row('0first', 80_005)]]);
    const r = await rewriteCache(file, '/root', { rows: changed, racyBefore: [], racyNow: [], sums: true });
    const expected = sortBytewise([...new Set([...byPath.keys(), ...changed.keys()])]).flatMap((p) => {
      const c = changed.has(p) ? changed.get(p) : byPath.get(p);
      return c ? [c] : [];
    });
    const got: Row[] = [];
    readRows(file, (x) => got.push(x));
    expect(got).toEqual(expected);
    expect(r).toMatchObject({ before: contentDigest(files(plain)), beforeFiles: plain.length, content: contentDigest(files(expected)), sums: sums(files(expected)), files: expected.length, lines: plain.length });
    // A row without a sha256 in a bulk run: the tree has no content digest, the rows are still put in.
    const unknown = expected.map((x, i) => (i === 20_000 ? ([...x.slice(0, 5), '', '', '', 0] as Row) : x));
    await writeRows(file, '/root', unknown);
    const u = await rewriteCache(file, '/root', { rows: new Map([[at(1), row(at(1), 80_006)]]), racyBefore: [], racyNow: [], sums: true });
    expect(u.content).toBeUndefined();
    expect(u.files).toBe(unknown.length);
    // A damaged line inside a bulk run is still refused by name.
    writeFileSync(file, `labsync-hashes\t3\t/root\n${plain.slice(0, 5000).map((x) => rowLine(x)).join('')}no tabs here\n${plain.slice(5000, 6000).map((x) => rowLine(x)).join('')}`);
    await expect(rewriteCache(file, '/root', { rows: new Map(), racyBefore: [], racyNow: [], sums: true })).rejects.toThrow(/line 5002: not a cache row/);
  });

  it('refuses another tree\'s cache or a damaged one, leaving it as it was', async () => {
    const dir = tempDir('cu-');
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

  it('a rewrite prepared ahead is put in place as rewriteCache would, only while the cache is the file it read; else it leaves nothing', async () => {
    const dir = tempDir('cu-');
    const [a, b] = [join(dir, 'a.hashes'), join(dir, 'b.hashes')];
    await writeRows(a, '/root', rows);
    await writeRows(b, '/root', rows);
    const update = { rows: new Map([['c/d', row('c/d', 99)], ['new', row('new', 7)]]), racyBefore: [], racyNow: [], sums: true };
    const ready = await prepareRewrite(b, '/root', update);
    // Nothing replaced yet: the cache is as it was, the temp file beside it.
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    const direct = await rewriteCache(a, '/root', update);
    const put = await ready.commit();
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(put).toMatchObject({ before: direct.before, content: direct.content, sums: direct.sums, files: direct.files, beforeFiles: direct.beforeFiles, lines: direct.lines });
    expect(put?.cacheKey).toEqual([statSync(b).size, statSync(b).mtimeMs, statSync(b).ctimeMs, statSync(b).ino]);
    // The cache rewritten meanwhile (by another run, say): the prepared file is dropped, the cache kept.
    const stale = await prepareRewrite(b, '/root', { ...update, rows: new Map([['a', row('a', 5)]]) });
    await writeRows(b, '/root', rows);
    const written = readFileSync(b, 'utf8');
    expect(await stale.commit()).toBeUndefined();
    expect(readFileSync(b, 'utf8')).toBe(written);
    const unused = await prepareRewrite(b, '/root', update);
    await unused.discard();
    await unused.discard();
    await expect(unused.commit()).rejects.toThrow(/once/);
    expect(readdirSync(dir).sort()).toEqual(['a.hashes', 'b.hashes']);
  });

  it('a rewrite prepared ahead that lets other work in between its pieces writes and digests the same as one that does not', async () => {
    const dir = tempDir('cu-');
    const [a, b] = [join(dir, 'a.hashes'), join(dir, 'b.hashes')];
    // Over 2 MiB of rows: several pieces, a changed row in the middle and one at the end.
    const many = sortBytewise(Array.from({ length: 20_000 }, (_, i) => `d${i % 7}/file-${i}.bin`)).map((p, i) => row(p, i + 1));
    await writeRows(a, '/root', many);
    await writeRows(b, '/root', many);
    const size = statSync(b).size;
    expect(size).toBeGreaterThan(2 << 20);
    const update = { rows: new Map([[many[9000]?.[0] as string, row(many[9000]?.[0] as string, 1)], ['zz-last', row('zz-last', 2)]]), racyBefore: [], racyNow: [], sums: true };
    // Other work on this thread, each turn of the loop: it sees the temp file part written (a piece done, the next to come).
    let partial = 0;
    let done = false;
    const look = (): void => {
      const tmp = readdirSync(dir).find((f) => f.startsWith('b.hashes.') && f.endsWith('.tmp'));
      const at = tmp ? statSync(join(dir, tmp)).size : 0;
      if (at > 0 && at < size * 0.9) partial++;
      if (!done) setImmediate(look);
    };
    setImmediate(look);
    const ready = await prepareRewrite(b, '/root', update, true);
    done = true;
    expect(partial).toBeGreaterThan(0);
    const direct = await rewriteCache(a, '/root', update);
    const put = await ready.commit();
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(put).toMatchObject({ before: direct.before, content: direct.content, sums: direct.sums, files: direct.files, beforeFiles: direct.beforeFiles, lines: direct.lines });
  });

  it('tells the same update from another: rows, racy entries, stat key and the way it is digested', () => {
    const base: CacheUpdate = { rows: new Map<string, Row | null>([['a', row('a', 1)], ['b', null]]), racyBefore: [{ path: 'r', size: 1, sha256: SHA(1) }], racyNow: [], sums: true, cacheKey: [1, 2, 3, 4] };
    const copy: CacheUpdate = { ...base, rows: new Map<string, Row | null>([['b', null], ['a', row('a', 1)]]), racyBefore: [{ path: 'r', size: 1, sha256: SHA(1) }], cacheKey: [1, 2, 3, 4] };
    expect(sameUpdate(base, copy)).toBe(true);
    for (const other of [
      { ...base, rows: new Map<string, Row | null>([['a', row('a', 2)], ['b', null]]) },
      { ...base, rows: new Map<string, Row | null>([['a', row('a', 1)], ['c', null]]) },
      { ...base, rows: new Map<string, Row | null>([['a', row('a', 1)], ['b', row('b', 1)]]) },
      { ...base, rows: new Map<string, Row | null>([['a', row('a', 1)]]) },
      { ...base, racyBefore: [] },
      { ...base, racyNow: [{ path: 'r', size: 1, sha256: SHA(2) }] },
      { ...base, sums: false },
      { ...base, cacheKey: [1, 2, 3, 5] },
      { rows: base.rows, racyBefore: base.racyBefore, racyNow: base.racyNow, sums: true },
      { ...base, digests: false as const },
    ]) expect(sameUpdate(base, other)).toBe(false);
  });
});
