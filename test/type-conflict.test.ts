// A path that is a file on one side and a folder on the other. `rsync -a --delete` replaces one with
// the other; labsync's mirror stopped on every run instead (the deletion step's rsync: "Not a
// directory"; the transfer: "could not make way for new regular file"), and the pair stayed stuck.
// Real rsync, a local folder remote and the test sshd.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, type Lab } from './harness/lab.js';
import { MIRROR, mirrorLab, MIRROR_KINDS } from './harness/mirror-lab.js';

interface Pair { status: string; error: string | null; hint?: string; changes?: { transfer: string[]; replace: string[]; delete: string[] }; verify: { status: string } | null }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/** Files enough that a conflict's deletions stay under the guard's default max_delete (50%). */
const KEPT = ['k1', 'k2', 'k3', 'k4'];

async function pushed(lab: Lab): Promise<Pair> {
  const r = await lab.cli(['data', 'push', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return pairOf(r);
}

/** The next run of the pair has nothing to do. */
async function settled(lab: Lab, verb: 'push' | 'pull'): Promise<void> {
  const again = await lab.cli(['data', verb, '--json']);
  expect(again.exitCode, again.stdout + again.stderr).toBe(0);
  expect(pairOf(again).changes).toMatchObject({ transfer: [], replace: [], delete: [] });
}

/** The files of every backup the pair made at `dest`, each relative to its dated folder. */
function backedUp(dest: string): string[] {
  const root = join(dest, '.labsync-backup');
  return readdirSync(root).flatMap((stamp) => readdirSync(join(root, stamp), { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(root, stamp, p)).isFile())).sort();
}

describe('a mirror push replaces a destination file with the (empty) folder the source has there', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    for (const k of KEPT) lab.write(lab.path('raw', k), k);
    lab.write(lab.path('raw/x'), 'a file');
    await pushed(lab);
    rmSync(lab.path('raw/x'));
    mkdirSync(lab.path('raw/x'));
    expect(await pushed(lab)).toMatchObject({ status: 'ok', changes: { delete: ['x'] }, verify: { status: 'in_sync' } });
    expect(statSync(far('x')).isDirectory()).toBe(true);
    await settled(lab, 'push');
  });
});

describe('a mirror push replaces a destination folder with the file the source has there, the folder\'s files backed up', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind, `${MIRROR}    backup: true\n`);
    for (const k of KEPT) lab.write(lab.path('raw', k), k);
    lab.write(lab.path('raw/x/f1'), 'one').write(lab.path('raw/x/sub/f2'), 'two');
    await pushed(lab);
    rmSync(lab.path('raw/x'), { recursive: true });
    lab.write(lab.path('raw/x'), 'now a file');
    expect(await pushed(lab)).toMatchObject({ status: 'ok', changes: { transfer: ['x'], delete: ['x/f1', 'x/sub/f2'] }, verify: { status: 'in_sync' } });
    const kept = Object.entries(lab.tree(far())).filter(([p]) => !p.startsWith('.labsync-backup/'));
    expect(Object.fromEntries(kept)).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', k4: 'k4', x: 'now a file' });
    expect(backedUp(far())).toEqual(['x/f1', 'x/sub/f2']);
    await settled(lab, 'push');
  });
});

describe('a mirror push never deletes excluded files to replace their folder with a file (review 70: over ssh the receiver had no exclude rules and --force emptied the folder)', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    for (const k of KEPT) lab.write(lab.path('raw', k), k);
    lab.write(lab.path('raw/x/f1'), 'one');
    await pushed(lab);
    // Written at the destination by someone else, excluded from the pair (*.tmp): not the mirror's to delete.
    lab.write(far('x/keep.tmp'), 'theirs');
    rmSync(lab.path('raw/x'), { recursive: true });
    lab.write(lab.path('raw/x'), 'now a file');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).not.toBe(0);
    expect(pairOf(r).error).toMatch(/could not replace the folder x with the source's file/);
    expect(lab.tree(far('x'))).toEqual({ 'keep.tmp': 'theirs' });
  });
});

describe('a mirror push never empties a folder the pair excludes as a folder to put a file of its name there (review 71)', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind, '    delete: true\n    exclude: ["cache/"]\n');
    for (const k of KEPT) lab.write(lab.path('raw', k), k);
    await pushed(lab);
    lab.write(far('cache/model.bin'), 'theirs').write(far('cache/sub/x'), 'theirs too');
    lab.write(lab.path('raw/cache'), 'a file named like the excluded folder');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).not.toBe(0);
    expect(pairOf(r).error).toMatch(/could not replace the folder cache with the source's file/);
    expect(lab.tree(far('cache'))).toEqual({ 'model.bin': 'theirs', 'sub/x': 'theirs too' });
  });
});

describe('a mirror push replaces a destination folder holding only empty folders (no listing shows it) with the source\'s file', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    for (const k of KEPT) lab.write(lab.path('raw', k), k);
    await pushed(lab);
    mkdirSync(far('a', 'b', 'c'), { recursive: true });
    lab.write(lab.path('raw/a'), 'now a file');
    expect(await pushed(lab)).toMatchObject({ status: 'ok', changes: { transfer: ['a'] }, verify: { status: 'in_sync' } });
    expect(lab.tree(far())).toMatchObject({ a: 'now a file' });
    await settled(lab, 'push');
  });
});

describe('a mirror pull replaces a local file with the (empty) folder the host has there', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    for (const k of KEPT) lab.write(far(k), k);
    lab.write(far('x'), 'a file');
    expect((await lab.cli(['data', 'pull'])).exitCode).toBe(0);
    rmSync(far('x'));
    mkdirSync(far('x'));
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { delete: ['x'] }, verify: { status: 'in_sync' } });
    expect(statSync(lab.path('raw/x')).isDirectory()).toBe(true);
    await settled(lab, 'pull');
  });
});

describe('a pair without delete: true says which folder is in the way of a file, and deletes nothing', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind, '');
    lab.write(lab.path('raw/k1'), 'k1').write(lab.path('raw/x/f1'), 'one');
    await pushed(lab);
    rmSync(lab.path('raw/x'), { recursive: true });
    lab.write(lab.path('raw/x'), 'now a file');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    const pair = pairOf(r);
    expect(pair.status).toBe('refused');
    expect(pair.error).toMatch(/^x is a file on one side and a folder on the other; this pair deletes nothing .*set delete: true/);
    expect(lab.tree(far())).toEqual({ k1: 'k1', 'x/f1': 'one' });
  });
});

describe('a pull without delete: true never removes a local file to make room for the folder the remote has there (review 37: it was lost, the plan said nothing)', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind, '');
    lab.write(lab.path('raw/k1'), 'k1');
    await pushed(lab);
    lab.write(join(far(), 'x', 'f'), 'the host\'s');
    lab.write(lab.path('raw/x'), 'precious local notes');
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(pairOf(r).error).toMatch(/^x is a file on one side and a folder on the other/);
    expect(lab.tree(lab.path('raw'))).toEqual({ k1: 'k1', x: 'precious local notes' });
  });
});
