// How a local tree is listed and remembered: GNU find and the worker pool give the same listing as
// lstat, in the order `LC_ALL=C sort` gives; unreadable and vanished files; and the whole-tree summary
// that lets an unchanged pair be checked without loading either hash cache, never past a change.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBatch, vanished } from '../src/verify/batch.js';
import { HashPool } from '../src/verify/hash-pool.js';
import { failWith, poolStatTree, statTree, treeStats } from '../src/verify/stat-tree.js';
import { listFiles } from '../src/verify/walk.js';
import { json, Lab } from './harness/lab.js';

const NAMES = ['plain.csv', 'with space.csv', 'back\\slash', 'new\nline', '-leading-dash', 'ünïcödé ✓', '.hidden', 'a-b', 'a/x', 'a.b', 'sub dir/deep/file.bin', 'skip.tmp', '.git/HEAD', 'keep/.git/config', 'build/o.bin', 'deep/build/o.bin', '😀/emoji'];
const EXCLUDES = ['/.git/', '*.tmp', 'build/'];

function awkwardTree(lab: Lab): string {
  for (const n of NAMES) lab.write(lab.path('tree', n), `content of ${n}\n`);
  mkdirSync(lab.path('tree/empty'), { recursive: true });
  symlinkSync('.', lab.path('tree/loop'));
  symlinkSync('/etc', lab.path('tree/escape'));
  return lab.path('tree');
}

describe('listing a tree', () => {
  it('find, the worker pool and lstat agree on files and keys, in byte order, excludes applied', async () => {
    const lab = new Lab();
    const root = awkwardTree(lab);
    const found = await treeStats(root, EXCLUDES);
    expect(found.rawDigest).toMatch(/^[0-9a-f]{64}$/); // listed by GNU find
    const viaFind = found.listing();
    const viaPool = await poolStatTree(root, EXCLUDES);
    expect(viaFind.paths).toEqual(viaPool.paths);
    expect([...viaFind.keys]).toEqual([...viaPool.keys]);
    const expected = ['-leading-dash', '.hidden', 'a-b', 'a.b', 'a/x', 'back\\slash', 'keep/.git/config', 'new\nline', 'plain.csv', 'sub dir/deep/file.bin', 'with space.csv', 'ünïcödé ✓', '😀/emoji'];
    expect(viaPool.paths).toEqual(expected);
    viaPool.paths.forEach((p, i) => {
      const s = lstatSync(`${root}/${p}`);
      expect([...viaPool.keys.subarray(i * 4, i * 4 + 4)], p).toEqual([s.size, s.mtimeMs, s.ctimeMs, s.ino]);
    });
    // The order coreutils users know: LC_ALL=C sort of the same names.
    const sorted = await execa('sh', ['-c', "find . -type f -printf '%P\\0' | LC_ALL=C sort -z"], { cwd: root, env: { LC_ALL: 'C' } });
    expect(listFiles(root)).toEqual(sorted.stdout.split('\0').filter(Boolean));
  });

  it('a missing root lists nothing; with GNU find switched off, a cached re-run lists through the pool alike', async () => {
    const lab = new Lab().manifest('version: 1\n');
    expect((await statTree(lab.path('nope'))).paths).toEqual([]);
    const root = awkwardTree(lab);
    const cold = await lab.cli(['sums', root]);
    expect(cold.exitCode).toBe(0);
    for (const env of [{}, { LABSYNC_FIND: '0' }] as Record<string, string>[]) expect((await lab.cli(['sums', root], { env })).stdout).toBe(cold.stdout);
  });

  it('refuses a file whose name is not valid UTF-8, naming it, rather than skipping it unchecked', async () => {
    const lab = new Lab().manifest('version: 1\n');
    lab.write(lab.path('t/fine'), 'fine');
    const bad = Buffer.concat([Buffer.from(`${lab.path('t')}/bad`), Buffer.from([0xff, 0xfe])]);
    writeFileSync(bad, 'x');
    const refused = async (env: Record<string, string> = {}): Promise<void> => {
      const r = await lab.cli(['sums', 't'], { env });
      expect(r.exitCode, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/t\/bad\uFFFD\uFFFD: this name is not valid UTF-8/);
    };
    await refused(); // walked, no cache yet
    unlinkSync(bad);
    await new Promise((r) => setTimeout(r, 1200)); // old enough to be remembered
    expect((await lab.cli(['sums', 't'])).exitCode).toBe(0);
    expect(readdirSync(lab.path('.labsync/cache'))).toHaveLength(1);
    writeFileSync(bad, 'x');
    await refused(); // listed by find, a cache being there
    await refused({ LABSYNC_FIND: '0' }); // listed by the workers
  });

  it('a file gone since the listing is not there; one that cannot be read is an error naming it', () => {
    const lab = new Lab();
    lab.write(lab.path('t/ok'), 'ok');
    mkdirSync(lab.path('t/dir'));
    const paths = ['ok', 'gone', 'ok/under-a-file', 'dir'];
    const r = runBatch({ op: 'hash', root: lab.path('t'), paths, sha256: true }, Buffer.alloc(1024));
    expect(r.sha256?.[0]).toMatch(/^[0-9a-f]{64}$/);
    expect([1, 2, 3].map((i) => Number.isNaN(r.keys[i * 4]))).toEqual([true, true, true]);
    expect(r.errors.map(vanished)).toEqual([true, true, false]);
    expect(() => failWith(lab.path('t'), paths, r.errors)).toThrow(/cannot read .*\/t\/dir: EISDIR/);
    const s = runBatch({ op: 'stat', root: lab.path('t'), paths }, Buffer.alloc(0));
    expect(s.keys[0]).toBe(2);
    expect(s.errors.every(vanished)).toBe(true); // gone, or not a regular file: simply not listed
    expect([1, 2, 3].map((i) => Number.isNaN(s.keys[i * 4]))).toEqual([true, true, true]);
  });
});

describe('the hash pool', () => {
  it('a worker that dies fails only its own batches, and the pool goes on without it', async () => {
    const lab = new Lab();
    const paths = Array.from({ length: 4000 }, (_v, i) => `f${i}`);
    for (const p of paths) writeFileSync(lab.path(p), p);
    const pool = HashPool.start(2, new URL('../dist/hash-worker.js', import.meta.url)); // built by the global setup
    const batch = { op: 'hash', root: lab.path(), paths, sha256: true } as const;
    try {
      const expected = (await pool.run(batch)).sha256;
      expect(expected).toHaveLength(4000);
      const lost = expect(pool.run(batch)).rejects.toThrow(/a hash worker stopped \(exit code \d+\), while reading files under \/.*lab/); // on worker 0 or 1: stop both
      await pool.stopWorker(0);
      await pool.stopWorker(1);
      await lost;
      expect((await pool.run(batch)).sha256).toEqual(expected); // no worker left: run here
    } finally {
      await pool.close();
    }
  });
});

interface CheckDoc { ok: boolean; pairs: { status: string; verify: { checked: number; changed: string[] } }[] }

describe('the whole-tree summary', () => {
  const manifest = `version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n`;
  const caches = (lab: Lab): string[] => (existsSync(lab.path('.labsync/cache')) ? readdirSync(lab.path('.labsync/cache')).sort() : []);

  async function summedUp(): Promise<Lab> {
    const lab = new Lab().manifest(manifest);
    for (let i = 0; i < 300; i++) lab.write(lab.path('raw', `d${i % 7}`, `f${i}`), randomBytes(700));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1200)); // older than the racy window, so the trees can be summed up
    expect((await lab.cli(['check'])).exitCode).toBe(0);
    expect(caches(lab).filter((f) => f.endsWith('.tree.json'))).toHaveLength(2);
    return lab;
  }

  it('an unchanged pair is in sync without loading either cache, by find listing or by stat keys', async () => {
    const lab = await summedUp();
    for (const env of [{}, {}, { LABSYNC_FIND: '0' }] as Record<string, string>[]) {
      for (const f of caches(lab).filter((x) => !x.endsWith('.tree.json'))) unlinkSync(lab.path('.labsync/cache', f));
      const r = await lab.cli(['check', '--json'], { env });
      expect(r.exitCode).toBe(0);
      expect(json<CheckDoc>(r).pairs[0]).toMatchObject({ status: 'in_sync', verify: { checked: 300 } });
      expect(caches(lab).every((f) => f.endsWith('.tree.json'))).toBe(true); // no per-file cache was needed
    }
    expect(JSON.parse(readFileSync(lab.path('.labsync/cache', caches(lab)[0] as string), 'utf8')).listing).toMatch(/^[0-9a-f]{64}$/);
  });

  it('without a GNU find, or without room for its listing, the workers list the trees and the answer is the same', async () => {
    const lab = await summedUp();
    // A find that lacks -printf, as BSD and busybox finds do: a real process on PATH, not a mock.
    lab.write(lab.outside('bin/find'), '#!/bin/sh\necho "find: -printf: unknown primary or operator" >&2\nexit 1\n');
    chmodSync(lab.outside('bin/find'), 0o755);
    const bsd = { PATH: `${lab.outside('bin')}:${process.env.PATH ?? ''}` };
    const noTmp = { TMPDIR: lab.outside('no-such-dir') };
    for (const env of [bsd, noTmp]) {
      const ok = await lab.cli(['check', '--json'], { env });
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect(json<CheckDoc>(ok).pairs[0]).toMatchObject({ status: 'in_sync', verify: { checked: 300 } });
    }
    unlinkSync(lab.outside('nas/raw/d2/f2'));
    for (const env of [bsd, noTmp]) expect((await lab.cli(['check'], { env })).exitCode).toBe(4);
  });

  it('is never trusted past a change: a same-size same-mtime byte flip is found, on either side', async () => {
    const lab = await summedUp();
    for (const [file, env] of [[lab.outside('nas/raw/d3/f10'), {}], [lab.path('raw/d4/f11'), { LABSYNC_FIND: '0' }]] as [string, Record<string, string>][]) {
      const { mtime } = statSync(file);
      const bytes = readFileSync(file);
      bytes[5] = (bytes[5] as number) ^ 0xff;
      writeFileSync(file, bytes);
      utimesSync(file, mtime, mtime);
      const r = await lab.cli(['check', '--json'], { env });
      expect(r.exitCode).toBe(4);
      expect(json<CheckDoc>(r).pairs[0]?.verify.changed).toContain(file.endsWith('f10') ? 'd3/f10' : 'd4/f11');
      writeFileSync(file, bytes.map((b, i) => (i === 5 ? b ^ 0xff : b)));
    }
  });

  it('is not written for a tree just changed (racy), and a damaged one costs the full comparison', async () => {
    const lab = new Lab().manifest(manifest);
    lab.write(lab.path('raw/a'), 'a\n');
    // Racy however slow the machine: a modification time ahead of the scan is always within its window.
    const ahead = new Date(Date.now() + 24 * 3600_000);
    utimesSync(lab.path('raw/a'), ahead, ahead);
    await lab.cli(['data', 'push']);
    expect((await lab.cli(['check'])).exitCode).toBe(0);
    expect(caches(lab).filter((f) => f.endsWith('.tree.json'))).toEqual([]);

    const summed = await summedUp();
    for (const f of caches(summed).filter((x) => x.endsWith('.tree.json'))) writeFileSync(summed.path('.labsync/cache', f), '{"version": 1, "fing');
    unlinkSync(summed.outside('nas/raw/d0/f0'));
    const r = await summed.cli(['check', '--json']);
    expect(r.exitCode).toBe(4);
  });
});
