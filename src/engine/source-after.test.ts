// Where the source's changes since its listing are taken from ctime, and where it is listed whole
// (source-after.ts): the root's own ctime, read through a symlinked root too, and what cannot be read.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { treeStats } from '../verify/stat-tree.js';
import { treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';
import { changedAfter, MARGIN_MS, rootCtime, wholeWhy } from './source-after.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const past = (): Promise<void> => new Promise((r) => setTimeout(r, MARGIN_MS + 100));

/** A tree `real` with a folder of files, and `link`, a symlink to it. */
function lab(): { dir: string; real: string; link: string } {
  const dir = mkdtempSync(join(tmpdir(), 'labsync-source-after-'));
  made.push(dir);
  const real = join(dir, 'real');
  mkdirSync(join(real, 'd'), { recursive: true });
  for (let f = 0; f < 3; f++) writeFileSync(join(real, 'd', `f${f}`), `${f}\n`);
  symlinkSync(real, join(dir, 'link'));
  return { dir, real, link: join(dir, 'link') };
}

const pairAt = (root: string, local: string): ResolvedPair => ({ name: 'p', root, local, remote: { type: 'local', path: join(root, 'dst') }, exclude: [] }) as unknown as ResolvedPair;

async function sideAt(pair: ResolvedPair, path: string): Promise<Side> {
  const t = await treeStats(path, treeExcludes(pair));
  return { where: 'local', path, missing: false, nowMs: t.nowMs, monoMs: t.monoMs, mounts: t.mounts, rawDigest: t.rawDigest, links: t.links, rawListing: t.rawListing } as unknown as Side;
}

describe("the source's changes since its listing", () => {
  it("reads a symlinked root's folder (its entries) and link (pointed elsewhere); a root it cannot read counts as changed", async () => {
    const { dir, real, link } = lab();
    await past();
    const since = Date.now();
    expect(rootCtime(link)).toBeLessThan(since);
    // The kernel stamps from its coarse clock, a few ms behind Date.now(): the write comes clear of it.
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(join(real, 'top'), 'a new name in the root, seen through the link\n');
    expect(rootCtime(link)).toBeGreaterThan(since);
    symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
    expect(rootCtime(join(dir, 'loop'))).toBe(Infinity); // ELOOP
    expect(rootCtime(join(dir, 'gone'))).toBe(Infinity);
  });

  it('takes the changes of a tree listed through a symlink, and lists it whole once its root changed', async () => {
    const { dir, real, link } = lab();
    const pair = pairAt(dir, link);
    await past();
    const side = await sideAt(pair, link);
    expect(wholeWhy(side, side.nowMs - MARGIN_MS)).toBe(undefined);
    writeFileSync(join(real, 'd', 'f1'), 'one, changed\n');
    expect(await changedAfter(pair, side)).toEqual({ files: ['d/f1'], folders: [] });
    writeFileSync(join(real, 'top'), 'x\n');
    expect(wholeWhy(side, side.nowMs - MARGIN_MS)).toBe('its root changed');
    expect(changedAfter(pair, side)).toBe(undefined);
  });

  it('lists whole a side whose clock and mounts are not known (a listing made without them)', async () => {
    const { dir, real } = lab();
    const pair = pairAt(dir, real);
    const side = await sideAt(pair, real);
    expect(wholeWhy({ ...side, monoMs: undefined } as unknown as Side, 0)).toBe('its clock and mounts not known');
    expect(wholeWhy({ ...side, mounts: undefined } as unknown as Side, 0)).toBe('its clock and mounts not known');
  });
});
