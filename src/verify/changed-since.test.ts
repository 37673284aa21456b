// The source's listing after a transfer from what find says changed since its listing began
// (changed-since.ts feeding listing-patch.ts): byte for byte what find of the whole tree prints then,
// for every kind of change a user can make meanwhile, on this machine's file system with the real find.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changedArgv, changedSince as changedOrWhy, newerArg, parseChanged, type Changed } from './changed-since.js';
import { patchedStats } from './listing-patch.js';
import { treeStats, type TreeStats } from './stat-tree.js';
import { HOUR_AGO, writeOld } from './old-tree.fixture.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const EXCLUDES = ['*.tmp', '/.labsync/', 'node_modules'];
const old = HOUR_AGO;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What changed, where find could say (its reason to list whole fails the test). */
async function changedSince(root: string, excludes: readonly string[], since: number): Promise<Changed> {
  const got = await changedOrWhy(root, excludes, since);
  if (typeof got === 'string') throw new Error(`listed whole: ${got}`);
  return got;
}

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'labsync-changed-'));
  made.push(d);
  return d;
}

const write = writeOld;

/** A tree of four folders of five files (and excluded ones), listed by find; `since`: a moment after it was made. */
async function listed(): Promise<{ root: string; before: TreeStats; since: number }> {
  const root = folder();
  for (let d = 0; d < 4; d++) for (let f = 0; f < 5; f++) write(root, `d${d}/sub/f${f}.csv`, `row ${d} ${f}\n`);
  write(root, 'top.csv', 'top\n');
  write(root, 'node_modules/x.js', 'x\n');
  write(root, '.labsync/cache', 'c\n');
  // The kernel stamps ctime from its coarse clock (a tick or so behind): the moment is taken clear of it.
  await sleep(30);
  const since = Date.now();
  await sleep(30);
  return { root, before: await treeStats(root, EXCLUDES), since };
}

/** What changed since `since`, patched into `before`, against find of the whole tree now. */
async function expectAsFind(root: string, before: TreeStats, since: number): Promise<void> {
  const changed = await changedSince(root, EXCLUDES, since);
  const got = await patchedStats(root, EXCLUDES, before.rawListing?.() as never, changed.files, undefined, changed.folders);
  const whole = await treeStats(root, EXCLUDES);
  expect(got).toBeDefined();
  const patched = got === 'same' ? before : (got as TreeStats);
  expect(patched.raw?.().toString('latin1')).toBe(whole.raw?.().toString('latin1'));
  expect(patched.rawDigest).toBe(whole.rawDigest);
}

describe('what changed since a moment', () => {
  it('gives find the moment to the nanosecond it has, and prunes excluded folders as the listing does', () => {
    expect(newerArg(1_700_000_000_123.5)).toBe('@1700000000.123500000');
    expect(newerArg(1_700_000_000_000)).toBe('@1700000000.000000000');
    expect(changedArgv(['node_modules', '/.labsync/'], 5)).toEqual(['find', '.', '-type', 'd', '(', '-name', 'node_modules', '-o', '-path', './.labsync', ')', '-prune', '-o', '-newerct', '@0.005000000', '-printf', '%y %P\\0']);
  });

  it('reads files and folders (the root as ""), skips what the listing never holds, and gives up on a symlink', () => {
    expect(parseChanged(Buffer.from('d \0f a b/c d\0d a b\0p fifo\0'))).toEqual({ files: ['a b/c d'], folders: ['', 'a b'] });
    expect(parseChanged(Buffer.from(''))).toEqual({ files: [], folders: [] });
    expect(parseChanged(Buffer.from('f x\0l link\0'))).toBe('a symlink changed');
    // A name that is not UTF-8 decodes to U+FFFD, which another file may be named: not patched by name.
    expect(parseChanged(Buffer.concat([Buffer.from('f d/'), Buffer.from([0xff]), Buffer.from('.csv\0')]))).toBe('a name that is not UTF-8 changed');
  });

  it('names nothing in a tree left alone, and only what changed after the moment', async () => {
    const { root, since } = await listed();
    expect(await changedSince(root, EXCLUDES, since)).toEqual({ files: [], folders: [] });
    appendFileSync(join(root, 'd1/sub/f2.csv'), 'more\n');
    write(root, 'node_modules/y.js', 'pruned, as in the listing\n');
    write(root, '.labsync/cache2', 'pruned too\n');
    expect(await changedSince(root, EXCLUDES, since)).toEqual({ files: ['d1/sub/f2.csv'], folders: [] });
  });

  it('catches a change that keeps size and sets mtime back (ctime moves all the same)', async () => {
    const { root, before, since } = await listed();
    writeFileSync(join(root, 'd2/sub/f3.csv'), 'ROW 2 3\n');
    utimesSync(join(root, 'd2/sub/f3.csv'), old, old);
    expect((await changedSince(root, EXCLUDES, since)).files).toEqual(['d2/sub/f3.csv']);
    await expectAsFind(root, before, since);
  });

  it('patches new, deleted and renamed files, a new folder, a removed one and an excluded file to what find prints', async () => {
    const { root, before, since } = await listed();
    write(root, 'd0/sub/new.csv', 'new\n');
    rmSync(join(root, 'd1/sub/f0.csv'));
    renameSync(join(root, 'd2/sub/f1.csv'), join(root, 'd2/sub/f1-renamed.csv'));
    write(root, 'd3/fresh/deep/a.csv', 'a\n');
    rmSync(join(root, 'd1/sub'), { recursive: true });
    write(root, 'd0/sub/skip.tmp', 'excluded by a glob: listed by find, dropped by the parse\n');
    const changed = await changedSince(root, EXCLUDES, since);
    expect(changed.folders.sort()).toEqual(['d0/sub', 'd1', 'd2/sub', 'd3', 'd3/fresh', 'd3/fresh/deep']);
    await expectAsFind(root, before, since);
  });

  it('lists again a folder moved in from outside the tree, whose files keep their old ctimes', async () => {
    const outside = folder();
    write(outside, 'moved/a.csv', 'a\n');
    write(outside, 'moved/b/c.csv', 'c\n');
    const { root, before, since } = await listed();
    renameSync(join(outside, 'moved'), join(root, 'd1/moved'));
    const changed = await changedSince(root, EXCLUDES, since);
    expect(changed.files).toEqual([]); // its files' ctimes are older than the moment: only the folders say
    expect(changed.folders.sort()).toEqual(['d1', 'd1/moved']);
    await expectAsFind(root, before, since);
  });

  it("names the root when its own entries change (the caller lists the tree whole), not when a file's mode does", async () => {
    const { root, before, since } = await listed();
    chmodSync(join(root, 'd0/sub/f1.csv'), 0o600);
    expect(await changedSince(root, EXCLUDES, since)).toEqual({ files: ['d0/sub/f1.csv'], folders: [] });
    await expectAsFind(root, before, since);
    write(root, 'new-top.csv', 'x\n');
    expect((await changedSince(root, EXCLUDES, since)).folders).toContain('');
  });

  it('gives the reason to list whole for a new symlink, and when find cannot run or fails, with its message', async () => {
    const { root, since } = await listed();
    symlinkSync('f0.csv', join(root, 'd0/sub/link'));
    expect(await changedOrWhy(root, EXCLUDES, since)).toBe('a symlink changed');
    rmSync(join(root, 'd0/sub/link'));
    expect(await changedSince(root, EXCLUDES, since)).toEqual({ files: [], folders: ['d0/sub'] });
    expect(await changedOrWhy(join(root, 'gone'), EXCLUDES, since)).toMatch(/^find failed \(spawn find ENOENT/);
    // A moment find cannot read: its first line of complaint is the reason.
    expect(await changedOrWhy(root, EXCLUDES, Number.NaN)).toMatch(/^find failed \(find: .*NaN/);
  });

  it("finds a file changed during the listing's own walk, after find read it: the listing's clock is taken before the walk", async () => {
    const { root } = await listed();
    const bin = folder();
    const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
    // find lists the tree, then the file changes, then find takes longer than the second of margin to end.
    writeFileSync(join(bin, 'find'), `#!/bin/sh\n'${real}' "$@"; rc=$?\nprintf more >> '${join(root, 'd1/sub/f1.csv')}'\nsleep 1.3\nexit $rc\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    let before: TreeStats;
    try {
      before = await treeStats(root, EXCLUDES);
    } finally {
      process.env.PATH = path;
    }
    expect(before.raw?.().toString('latin1')).not.toContain('more');
    // (The tree was made just before: its other files are within the second too.)
    const changed = await changedSince(root, EXCLUDES, (before.nowMs ?? Date.now()) - 1000);
    expect(changed.files).toContain('d1/sub/f1.csv');
  });

  it('is what the shell find prints (the argv runs as given)', async () => {
    const { root, since } = await listed();
    appendFileSync(join(root, 'top.csv'), 'x\n');
    const [cmd, ...args] = changedArgv(EXCLUDES, since);
    expect(parseChanged(execFileSync(cmd, args, { cwd: root }))).toEqual({ files: ['top.csv'], folders: [] });
  });
});
