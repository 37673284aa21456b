// The listing after a transfer built from the listing before it (listing-patch.ts) must be byte for
// byte what find of the whole tree prints then: the stored "listing last proved" is compared with the
// next run's find output byte for byte (listing-match.ts), and the digest with its digest.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cutPerDir, filesFrom, folderListings } from './folder-list.js';
import { MAX_PATHS, moreEntries, patchedStats, picksFor, regionOf, spliced, type Region } from './listing-patch.js';
import { joinRaw } from './listing-match.js';
import { treeStats, type TreeStats } from './stat-tree.js';
import { oldTree, writeOld } from './old-tree.fixture.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});


function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'labsync-patch-'));
  made.push(root);
  return oldTree(root, files);
}

const write = writeOld;

const EXCLUDES = ['*.tmp', '/.labsync-backup/'];

/** A source and a copy of it made by rsync, each listed by find (the copy over nothing, as a first run's). */
async function pair(files: Record<string, string>): Promise<{ src: string; dst: string; before: TreeStats }> {
  const src = tree(files);
  const dst = tree({});
  execFileSync('rsync', ['-a', `${src}/`, `${dst}/`]);
  return { src, dst, before: await treeStats(dst, EXCLUDES) };
}

/** rsync of exactly `paths` (as labsync sends a plan), then the deletions. */
function transfer(src: string, dst: string, paths: readonly string[], del: readonly string[] = []): void {
  if (paths.length) execFileSync('rsync', ['-a', '--files-from=-', `${src}/`, `${dst}/`], { input: paths.map((p) => `${p}\n`).join('') });
  for (const p of del) rmSync(join(dst, p), { recursive: true });
}

async function expectAsFind(root: string, before: TreeStats, touched: readonly string[]): Promise<TreeStats> {
  const got = await patchedStats(root, EXCLUDES, before.rawListing?.() as never, touched);
  const whole = await treeStats(root, EXCLUDES);
  expect(got).not.toBe(undefined);
  expect(got).not.toBe('same');
  const patched = got as TreeStats;
  expect(patched.raw?.().toString('latin1')).toBe(whole.raw?.().toString('latin1'));
  expect(patched.rawDigest).toBe(whole.rawDigest);
  expect(patched.listing()).toEqual(whole.listing());
  return patched;
}

const files = (): Record<string, string> => {
  const out: Record<string, string> = { 'top.bin': 'top\n', 'a b/x y.bin': 'spaces\n' };
  for (let d = 0; d < 6; d++) for (let f = 0; f < 30; f++) out[`d${d}/f${f}.bin`] = `${d}/${f}\n`;
  for (let f = 0; f < 5; f++) out[`d2/deep/er/g${f}.bin`] = `deep ${f}\n`;
  return out;
};

describe('the listing after a transfer, built from the one before', () => {
  it('is byte for byte find\'s after a changed file, a new one, a deleted one and a new file in a new folder', async () => {
    const { src, dst, before } = await pair(files());
    write(src, 'd1/f3.bin', 'changed, longer\n');
    write(src, 'd4/new.bin', 'new\n');
    write(src, 'd5/fresh/sub/n.bin', 'in a new folder\n');
    write(src, 'd2/deep/er/g1.bin', 'deep changed\n');
    rmSync(join(src, 'd0/f7.bin'));
    const sent = ['d1/f3.bin', 'd4/new.bin', 'd5/fresh/sub/n.bin', 'd2/deep/er/g1.bin'];
    transfer(src, dst, sent, ['d0/f7.bin']);
    await expectAsFind(dst, before, [...sent, 'd0/f7.bin']);
  });

  it('rewrites the record of a replaced file in place and drops a deleted one\'s, at the top too, with no find spawned', async () => {
    const { src, dst, before } = await pair(files());
    write(src, 'top.bin', 'top, changed\n');
    write(src, 'a b/x y.bin', 'spaces, changed\n');
    write(src, 'd3/f9.bin', 'nine\n');
    const sent = ['top.bin', 'a b/x y.bin', 'd3/f9.bin'];
    transfer(src, dst, sent, ['d4/f4.bin', 'd2/deep']);
    const spawned = folderListings.n;
    await expectAsFind(dst, before, [...sent, 'd4/f4.bin', ...[0, 1, 2, 3, 4].map((f) => `d2/deep/er/g${f}.bin`)]);
    expect(folderListings.n).toBe(spawned);
    // More paths than a few native searches: one pass over the listing finds their records.
    const { src: s2, dst: d2, before: b2 } = await pair(files());
    const many = Array.from({ length: 20 }, (_, f) => `d${f % 6}/f${f}.bin`);
    for (const p of many) write(s2, p, `${p}, changed\n`);
    transfer(s2, d2, many);
    await expectAsFind(d2, b2, many);
    expect(folderListings.n).toBe(spawned);
  });

  it('drops a folder the transfer deleted whole, and lists a nested new folder from the nearest one listed', async () => {
    const { src, dst, before } = await pair(files());
    rmSync(join(src, 'd2/deep'), { recursive: true });
    write(src, 'd3/a/b/c/new.bin', 'deep new\n');
    transfer(src, dst, ['d3/a/b/c/new.bin'], ['d2/deep']);
    await expectAsFind(dst, before, ['d3/a/b/c/new.bin', ...[0, 1, 2, 3, 4].map((f) => `d2/deep/er/g${f}.bin`)]);
  });

  it('keeps the listing over the remembered one, its records that differ apart (listing-match.ts)', async () => {
    const { src, dst, before } = await pair(files());
    const reference = before.raw?.() as Buffer;
    const kept = await treeStats(dst, EXCLUDES, reference);
    write(src, 'd1/f3.bin', 'changed, longer\n');
    transfer(src, dst, ['d1/f3.bin']);
    const got = (await patchedStats(dst, EXCLUDES, kept.rawListing?.() as never, ['d1/f3.bin'], reference)) as TreeStats;
    const raw = got.rawListing?.();
    expect(raw?.reference).toBe(reference);
    expect(raw?.own.map((b) => b.toString()).join('')).toMatch(/^16 [0-9.]+ [0-9.]+ \d+ d1\/f3\.bin\0$/);
    expect(joinRaw(raw as never).equals((await treeStats(dst, EXCLUDES)).raw?.() as Buffer)).toBe(true);
  });

  it('answers "same" for folders that hold the records they held, and lists nothing for an untouched tree', async () => {
    const { dst, before } = await pair(files());
    expect(await patchedStats(dst, EXCLUDES, before.rawListing?.() as never, ['d1/f3.bin', 'd4/f0.bin'])).toBe('same');
  });

  it('lists the whole tree for a new path at its top, or too many folders, or too much of the tree', async () => {
    const { src, dst, before } = await pair(files());
    const raw = before.rawListing?.() as never;
    write(src, 'new at the top.bin', 'new\n');
    transfer(src, dst, ['new at the top.bin']);
    expect(await patchedStats(dst, EXCLUDES, raw, ['new at the top.bin'])).toBe(undefined);
    const parts = before.rawListing?.()?.parts ?? [];
    // Past the bytes allowed (a quarter of a large listing), the whole tree.
    expect(picksFor(parts, dst, ['d0/f1.bin', 'd1/f1.bin'], 64, 2000)).toBe(undefined);
    expect(picksFor(parts, dst, ['d0/f1.bin', 'd1/f1.bin', 'd2/f1.bin'], 2, Infinity)).toBe(undefined);
    expect(picksFor(parts, dst, ['d0/f1.bin', 'd1/f1.bin'], 2, Infinity)).toHaveLength(2);
  });

  it('lists a folder whose name looks like an option (-files0-from reads the names)', async () => {
    const { src, dst, before } = await pair({ ...files(), '-d/f.bin': 'dash\n', '(/g.bin': 'paren\n' });
    write(src, '-d/f.bin', 'dash changed\n');
    write(src, '(/g.bin', 'paren changed\n');
    transfer(src, dst, ['-d/f.bin', '(/g.bin']);
    await expectAsFind(dst, before, ['-d/f.bin', '(/g.bin']);
  });

  it('finds a folder\'s run by its path, not by the same bytes inside another path', () => {
    const rec = (p: string): string => `1 1.0 1.0 1 ${p}\0`;
    const parts = [Buffer.from(rec('x b/f') + rec('b/f') + rec('b/g')), Buffer.from(rec('b/h') + rec('c/i'))];
    const r = regionOf(parts, 'b');
    expect(r).toEqual({ dir: 'b', from: [0, rec('x b/f').length], to: [1, rec('b/h').length], bytes: 3 * rec('b/f').length });
    expect(regionOf(parts, 'b', 10)).toBe('whole');
    expect(regionOf(parts, 'x')).toBe(undefined);
    const fresh = Buffer.from(rec('b/new'));
    const region = r as Region;
    expect(Buffer.concat(spliced(parts, [{ from: region.from, to: region.to, bytes: fresh }])).toString()).toBe(rec('x b/f') + rec('b/new') + rec('c/i'));
    expect(cutPerDir(Buffer.from(rec('b/1') + rec('c/2') + rec('c/3')), ['b', 'c'])?.map(String)).toEqual([rec('b/1'), rec('c/2') + rec('c/3')]);
    expect(cutPerDir(Buffer.from(rec('b/1') + 'l\0'), ['b'])).toBe(undefined);
  });

  it('lists the whole tree where a folder\'s run meets a symlink\'s marker: a deleted folder that held one leaves no stale record', async () => {
    const { src, dst } = await pair(files());
    symlinkSync('f1.bin', join(dst, 'd3/link'));
    const before = await treeStats(dst, EXCLUDES);
    rmSync(join(src, 'd3'), { recursive: true });
    transfer(src, dst, [], ['d3']);
    // The plan's deletions: the files, and the link (no record of its own: its folder's run is looked up).
    const touched = [...Array.from({ length: 30 }, (_, f) => `d3/f${f}.bin`), 'd3/link'];
    expect(await patchedStats(dst, EXCLUDES, before.rawListing?.() as never, touched)).toBe(undefined);
    const rec = (p: string): string => `1 1.0 1.0 1 ${p}\0`;
    expect(regionOf([Buffer.from(rec('a/x') + rec('b/f') + 'l\0' + rec('b/g') + rec('c/h'))], 'b')).toBe('whole');
    expect(regionOf([Buffer.from(rec('a/x') + 'l\0'), Buffer.from(rec('b/g') + rec('c/h'))], 'b')).toBe('whole');
    expect(regionOf([Buffer.from(rec('a/x') + rec('b/g') + rec('c/h'))], 'b')).toMatchObject({ bytes: rec('b/g').length });
  });

  it('lists again a folder of more than 10,000 entries where a file was replaced (find lists it by inode): as find prints it', async () => {
    const big: Record<string, string> = { 'other/a.bin': 'a\n' };
    for (let f = 0; f < 10_050; f++) big[`big/f${f}.bin`] = `${f}\n`;
    const { src, dst, before } = await pair(big);
    expect(moreEntries(join(dst, 'big'), 10_000)).toBe(true);
    expect(moreEntries(join(dst, 'other'), 10_000)).toBe(false);
    write(src, 'big/f17.bin', 'seventeen, replaced\n');
    write(src, 'other/a.bin', 'a, replaced\n');
    transfer(src, dst, ['big/f17.bin', 'other/a.bin']);
    const spawned = folderListings.n;
    await expectAsFind(dst, before, ['big/f17.bin', 'other/a.bin']);
    expect(folderListings.n).toBe(spawned + 1); // big/ listed; other/'s record rewritten in place
  }, 60_000); // 10,050 files written, copied and listed: seconds on a loaded machine

  it('lists the whole tree past 20,000 touched paths, spawning nothing', async () => {
    const { dst, before } = await pair(files());
    const spawned = folderListings.n;
    const many = Array.from({ length: MAX_PATHS + 1 }, (_, i) => `d${i % 6}/x${i}.bin`);
    expect(await patchedStats(dst, EXCLUDES, before.rawListing?.() as never, many)).toBe(undefined);
    expect(folderListings.n).toBe(spawned);
  });

  it('lists the whole tree where find takes no -files0-from (findutils 4.8), and asks such a find no more in this process', async () => {
    const { src, dst, before } = await pair(files());
    write(src, 'd4/new.bin', 'new\n');
    transfer(src, dst, ['d4/new.bin']);
    const bin = tree({});
    const count = join(bin, 'count');
    const fake = (message: string): void => {
      writeFileSync(join(bin, 'find'), `#!/bin/sh\necho x >> '${count}'\necho "${message}" >&2\nexit 1\n`);
      chmodSync(join(bin, 'find'), 0o755);
    };
    const calls = (): number => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').length - 1 : 0);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const raw = before.rawListing?.() as never;
      // Another failure (a folder gone meanwhile) is asked again next time.
      fake('find: ‘d4’: No such file or directory');
      expect(await patchedStats(dst, EXCLUDES, raw, ['d4/new.bin'])).toBe(undefined);
      expect(await patchedStats(dst, EXCLUDES, raw, ['d4/new.bin'])).toBe(undefined);
      expect(calls()).toBe(2);
      fake("find: unknown predicate \\`-files0-from'");
      expect(await patchedStats(dst, EXCLUDES, raw, ['d4/new.bin'])).toBe(undefined);
      expect(await patchedStats(dst, EXCLUDES, raw, ['d4/new.bin'])).toBe(undefined);
      expect(calls()).toBe(3);
      expect(filesFrom.works).toBe(false);
    } finally {
      process.env.PATH = path;
      filesFrom.works = true;
    }
    // No find at all: the same.
    process.env.PATH = join(bin, 'none');
    try {
      expect(await patchedStats(dst, EXCLUDES, before.rawListing?.() as never, ['d4/new.bin'])).toBe(undefined);
      expect(filesFrom.works).toBe(false);
    } finally {
      process.env.PATH = path;
      filesFrom.works = true;
    }
    await expectAsFind(dst, before, ['d4/new.bin']);
  });
});
