import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHUNK, readRows, RowReader, rowLine, headerLine, type Row } from './cache-file.js';
import { treeKey } from './cache-key.js';
import { HashCache } from './hash-cache.js';
import { treeMounts } from './mount-types.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const SHA = (n: number): string => n.toString(16).padStart(64, '0');
const row = (path: string, n: number): Row => [path, n, 1_600_000_000_000.125 + n, 1_600_000_000_000.5, 1000 + n, SHA(n), '', '', 0];
const keysOf = (rows: readonly Row[]): Float64Array => Float64Array.from(rows.flatMap((r) => [r[1], r[2], r[3], r[4]]));
const OLD = 10_000; // scan time far after every row's mtime: nothing is racy

describe('hash cache file', () => {
  it('reads rows from pieces split anywhere, even inside a character, as each line completes', () => {
    const rows = [row('a', 1), row('dir/é tab\there', 2), row('new\nline\\x', 3), row('日本/語', 4)];
    const bytes = Buffer.from(headerLine('/root') + rows.map(rowLine).join(''));
    for (const size of [1, 2, 3, 7, 64]) {
      const got: Row[] = [];
      const reader = new RowReader((r) => got.push(r));
      for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
      reader.end();
      expect(reader.root).toBe('/root');
      expect(got).toEqual(rows);
    }
  });

  it('streams a file in fixed-size reads, so a big cache is never one string', () => {
    const dir = tempDir('hc-');
    const rows = Array.from({ length: 5000 }, (_, i) => row(`d/f${String(i).padStart(5, '0')}`, i));
    const file = join(dir, 'c.hashes');
    writeFileSync(file, headerLine('/t') + rows.map(rowLine).join(''));
    const stats = { reads: 0, bytes: 0 };
    let seen = 0;
    let firstAfterReads = 0;
    readRows(file, () => {
      if (seen++ === 0) firstAfterReads = stats.reads;
    }, stats, 4096);
    const size = readFileSync(file).length;
    expect(seen).toBe(5000);
    expect(stats.bytes).toBe(size);
    expect(stats.reads).toBe(Math.ceil(size / 4096) + 1); // the last read returns 0
    expect(firstAfterReads).toBe(1); // the first row came out of the first piece, before the rest was read
    expect(CHUNK).toBeLessThanOrEqual(1 << 20);
  });

  it('refuses a cut-short, a malformed or a foreign file, naming the line', () => {
    const parse = (text: string): () => void => () => {
      const r = new RowReader(() => undefined);
      r.push(Buffer.from(text));
      r.end();
    };
    expect(parse(`${headerLine('/t')}${rowLine(row('a', 1)).slice(0, -3)}`)).toThrow(/line 2 is cut short/);
    expect(parse(`${headerLine('/t')}a\t1\t2\n`)).toThrow(/line 2: 3 fields/);
    expect(parse(`${headerLine('/t')}a\t1\t2\t3\t4\tnothex\t\t\t0\n`)).toThrow(/line 2: a sha256/);
    expect(parse(`${headerLine('/t')}a\tbig\t2\t3\t4\t\t\t\t0\n`)).toThrow(/line 2: size is not a number/);
    expect(parse('{"version":2}\n')).toThrow(/line 1: not a labsync hash cache/);
    expect(parse('labsync-hashes\t9\t/t\n')).toThrow(/format 9/);
    expect(parse('')).toThrow(/no header/);
  });
});

describe('HashCache', () => {
  const listed = (n: number): Row[] => Array.from({ length: n }, (_, i) => row(`f${String(i).padStart(4, '0')}`, i));

  it('saves sorted lines and reads them back lined up with the listing: a row only under its exact key', async () => {
    const dir = tempDir('hc-');
    const rows = listed(300);
    const listing = { paths: rows.map((r) => r[0]) };
    const c = HashCache.open(dir, '/t', { listing });
    for (const r of [...rows].reverse()) expect(c.put(r, OLD + 1_600_000_000_000)).toBe(true);
    await c.save('/t');
    const text = readFileSync(HashCache.fileFor(dir, '/t'), 'utf8').split('\n');
    expect(text[0]).toBe('labsync-hashes\t3\t/t');
    expect(text.slice(1, -1).map((l) => l.split('\t')[0])).toEqual(listing.paths);

    // The next run lists one file fewer and one changed: the gone one is dropped, the changed one not answered.
    const now = rows.filter((_, i) => i !== 5);
    const keys = keysOf(now);
    keys[10 * 4 + 2] = (keys[10 * 4 + 2] as number) + 1; // ctime moved
    const d = HashCache.open(dir, '/t', { listing: { paths: now.map((r) => r[0]) } });
    expect(d.lookup(now[0]?.[0] as string, keys, 0)).toEqual(now[0]);
    expect(d.lookup(now[10]?.[0] as string, keys, 10)).toBeUndefined();
    expect(d.lookup(now[11]?.[0] as string, keys, 11)?.[5]).toBe(SHA(12));
    expect(d.lookup('f0005', keysOf([rows[5] as Row]), 0)).toBeUndefined();
    // shaOf answers as lookup(…)?.[5] does, for every listed file, the changed one and the gone one.
    now.forEach((r, i) => expect(d.shaOf(r[0], keys, i)).toBe(d.lookup(r[0], keys, i)?.[5]));
    expect(d.shaOf(now[10]?.[0] as string, keys, 10)).toBeUndefined();
    expect(d.shaOf('f0005', keysOf([rows[5] as Row]), 0)).toBeUndefined();
    await d.save('/t'); // dirty: the row of the file that is gone was dropped
    expect(readFileSync(HashCache.fileFor(dir, '/t'), 'utf8')).not.toContain('f0005\t');
  });

  it('putSha and copySha: a digest as bytes is the row put() would make, saved alike; a racy one is refused', async () => {
    const dir = tempDir('hc-');
    const rows = listed(50);
    const listing = { paths: rows.map((r) => r[0]) };
    const keys = keysOf(rows);
    const digests = Buffer.concat(rows.map((r) => Buffer.from(r[5], 'hex')));
    const now = OLD + 1_600_000_000_000;
    const byBytes = HashCache.open(dir, '/bytes', { listing });
    const byRows = HashCache.open(dir, '/rows', { listing });
    rows.forEach((r, i) => {
      expect(byBytes.putSha(r[0], keys, i, digests, i * 32, now)).toBe(true);
      byRows.put(r, now);
      expect(byBytes.shaSlot(r[0], keys, i)).toBe(i);
      expect(byBytes.lookup(r[0], keys, i)).toEqual(byRows.lookup(r[0], keys, i));
    });
    // Under another key, or for a path off the listing: no slot.
    const moved = keys.slice();
    moved[3 * 4 + 1] = (moved[3 * 4 + 1] as number) + 1;
    expect(byBytes.shaSlot('f0003', moved, 3)).toBe(-1);
    expect(byBytes.shaSlot('nope', keys, 0)).toBe(-1);
    await byBytes.save('/t');
    await byRows.save('/t');
    expect(readFileSync(HashCache.fileFor(dir, '/bytes'), 'utf8')).toBe(readFileSync(HashCache.fileFor(dir, '/rows'), 'utf8'));
    // A destination lined up with the same paths takes the digest under its own key.
    const dst = HashCache.open(undefined, '/dst', { listing });
    const dstKeys = keys.map((v, k) => (k % 4 === 3 ? v + 7 : v));
    expect(byBytes.copySha(4, dst, 'f0004', dstKeys, 4, now)).toBe(true);
    expect(dst.shaOf('f0004', dstKeys, 4)).toBe(SHA(4));
    expect(dst.shaOf('f0004', keys, 4)).toBeUndefined();
    // Changed within the racy window of the scan: not remembered, as put() refuses it; off the listing: kept aside, as put() does.
    expect(dst.putSha('f0005', keys, 5, digests, 5 * 32, (keys[5 * 4 + 1] as number) + 10)).toBe(false);
    expect(dst.shaSlot('f0005', keys, 5)).toBe(-1);
    expect(dst.putSha('other', keys, 6, digests, 6 * 32, now)).toBe(true);
    expect(dst.shaOf('other', keys, 6)).toBe(SHA(6));
    // A racy one also forgets what was remembered for that path before (a slot, or a row off the listing), as put() does.
    const racyAt = (i: number): number => (keys[i * 4 + 1] as number) + 10;
    expect(dst.putSha('f0004', dstKeys, 4, digests, 4 * 32, racyAt(4))).toBe(false);
    expect(dst.shaOf('f0004', dstKeys, 4)).toBeUndefined();
    expect(dst.putSha('other', keys, 6, digests, 6 * 32, racyAt(6))).toBe(false);
    expect(dst.shaOf('other', keys, 6)).toBeUndefined();
  });

  it('realign: lined up with a new listing exactly as saving and opening again would, without reading the file', async () => {
    const dir = tempDir('hc-');
    const rows = listed(50);
    const c = HashCache.open(dir, '/t', { listing: { paths: rows.map((r) => r[0]) } });
    for (const r of rows) c.put(r, OLD + 1_600_000_000_000);
    const extra: Row = ['zz-unlisted', 7, 1_600_000_000_000, 1_600_000_000_000, 7, SHA(99), '', '', 0];
    c.put(extra, OLD + 1_600_000_000_000);
    // The listing after a transfer: one file gone, one new (not hashed yet), the rest as before.
    const now = [...rows.filter((_, i) => i !== 3).map((r) => r[0]), 'f0003b'].sort();
    const moved = c.realign({ paths: now });
    await c.save('/t');
    const reopened = HashCache.open(dir, '/t', { listing: { paths: now } });
    const keys = keysOf(rows.filter((_, i) => i !== 3));
    for (const [i, p] of now.filter((x) => x !== 'f0003b').entries()) {
      const at = now.indexOf(p);
      expect(moved.lookup(p, keys, i)).toEqual(reopened.lookup(p, keys, i));
      expect(moved.lookup(p, keys, i)?.[5]).toBe(SHA(Number(p.slice(1))));
      expect(at).toBeGreaterThanOrEqual(0);
    }
    expect(moved.lookup('f0003', keysOf([rows[3] as Row]), 0)).toBeUndefined();
    // Dropped rows (the gone file, the unlisted one) make it dirty: its save writes exactly what a reopen keeps.
    await moved.save('/t');
    const text = readFileSync(HashCache.fileFor(dir, '/t'), 'utf8');
    expect(text).not.toContain('f0003\t');
    expect(text).not.toContain('zz-unlisted');
    expect(text.split('\n').length - 2).toBe(49);
  });

  it('ignores a damaged cache with a warning, never trusting a row of it, and rebuilds it', async () => {
    const dir = tempDir('hc-');
    const rows = listed(3);
    const listing = { paths: rows.map((r) => r[0]) };
    const file = HashCache.fileFor(dir, '/t');
    writeFileSync(file, `${headerLine('/t')}${rowLine(rows[0] as Row)}garbage line\n${rowLine(rows[2] as Row)}`);
    const warnings: string[] = [];
    const c = HashCache.open(dir, '/t', { listing, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/ignored the damaged hash cache .*line 3: 1 fields where 9 belong.*rebuilt/)]);
    const keys = keysOf(rows);
    expect(c.lookup('f0000', keys, 0)).toBeUndefined(); // a good-looking row of a damaged file is not trusted
    expect(c.lookup('f0002', keys, 2)).toBeUndefined();
    c.put(rows[1] as Row, OLD + 1_600_000_000_000);
    await c.save('/t');
    expect(readFileSync(file, 'utf8')).toBe(headerLine('/t') + rowLine(rows[1] as Row));
    const again: string[] = [];
    HashCache.open(dir, '/t', { listing, warn: (m) => again.push(m) });
    expect(again).toEqual([]);
  });

  it('reads the JSON cache of labsync before format 3 once, then replaces it', async () => {
    const dir = tempDir('hc-');
    const rows = listed(4);
    const old = join(dir, `${treeKey('/t')}.json`);
    writeFileSync(old, JSON.stringify({ version: 2, root: '/t', rows: [...rows].reverse() }));
    expect(HashCache.exists(dir, '/t')).toBe(true);
    const c = HashCache.open(dir, '/t', { listing: { paths: rows.map((r) => r[0]) } });
    expect(c.lookup('f0003', keysOf(rows), 3)).toEqual(rows[3]);
    expect(existsSync(old)).toBe(false);
    await c.save('/t');
    expect(readFileSync(HashCache.fileFor(dir, '/t'), 'utf8')).toBe(headerLine('/t') + rows.map(rowLine).join(''));
  });

  it('a damaged old JSON cache costs a re-hash, not a wrong answer', () => {
    const dir = tempDir('hc-');
    writeFileSync(join(dir, `${treeKey('/t')}.json`), '{"version":2,"root":"/t","rows":[["f0000",0,');
    const rows = listed(1);
    expect(HashCache.open(dir, '/t', { listing: { paths: ['f0000'] } }).lookup('f0000', keysOf(rows), 0)).toBeUndefined();
  });

  it('another tree under the same file name is not this tree', () => {
    const dir = tempDir('hc-');
    const rows = listed(2);
    writeFileSync(HashCache.fileFor(dir, '/t'), headerLine('/elsewhere') + rows.map(rowLine).join(''));
    expect(HashCache.open(dir, '/t', { listing: { paths: rows.map((r) => r[0]) } }).lookup('f0000', keysOf(rows), 0)).toBeUndefined();
  });

  it('asks where the tree lies at every open: a tree on a file system that keeps no change times since gets no remembered hash, said once (review 53: a long watch whose `latest` link moved to sshfs went on trusting its cache)', async () => {
    const dir = tempDir('hc-');
    const root = tempDir('hc-root-');
    const rows = listed(2);
    const listing = { paths: rows.map((r) => r[0]) };
    const c = HashCache.open(dir, root, { listing });
    for (const r of rows) c.put(r, OLD + 1_600_000_000_000);
    await c.save(root);
    expect(HashCache.open(dir, root, { listing }).lookup('f0000', keysOf(rows), 0)).toEqual(rows[0]);
    // The same process, the tree's file system now one that keeps no change times (its own type named so: no FUSE mount offline).
    process.env.LABSYNC_TEST_UNKEPT_FS = (treeMounts(root) ?? '').split('\t')[0];
    try {
      const warned: string[] = [];
      for (let i = 0; i < 2; i++) expect(HashCache.open(dir, root, { listing, warn: (m) => warned.push(m) }).lookup('f0000', keysOf(rows), 0)).toBeUndefined();
      expect(warned).toEqual([expect.stringMatching(/no hash is remembered for it/)]);
    } finally {
      delete process.env.LABSYNC_TEST_UNKEPT_FS;
    }
  });

  it('works without a listing (rows by path) and keeps racy files out', async () => {
    const dir = tempDir('hc-');
    const c = HashCache.open(dir, '/t');
    const r = row('x', 1);
    expect(c.put(r, r[2] + 10)).toBe(false); // changed 10 ms before the scan: racy
    expect(c.put(row('y', 2), OLD + 1_600_000_000_000)).toBe(true);
    await c.save('/t');
    const d = HashCache.open(dir, '/t');
    expect(d.lookup('y', keysOf([row('y', 2)]), 0)?.[5]).toBe(SHA(2));
    expect(d.lookup('x', keysOf([r]), 0)).toBeUndefined();
  });
});
