// The listing after a transfer (listing-after.ts): a local destination is patched from the paths the
// transfer touched, a local source from what changed there since its listing began; a side gone
// meanwhile, one holding symlinks, and every side under LABSYNC_AFTER=whole are listed whole.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { treeStats, type TreeStats } from '../verify/stat-tree.js';
import { statsAfter, touchedBy } from './listing-after.js';
import { treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.LABSYNC_AFTER;
  delete process.env.LABSYNC_SOURCE_AFTER;
});

function lab(): { pair: ResolvedPair; src: string; dst: string } {
  const root = mkdtempSync(join(tmpdir(), 'labsync-after-'));
  made.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  for (let f = 0; f < 5; f++) {
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd', `f${f}`), `${f}\n`);
  }
  execFileSync('rsync', ['-a', `${src}/`, `${dst}/`]);
  const pair = { name: 'p', root, local: src, remote: { type: 'local', path: dst }, exclude: [] } as unknown as ResolvedPair;
  return { pair, src, dst };
}

/** A local side as sides.ts makes it from find's listing. */
async function side(pair: ResolvedPair, path: string): Promise<Side> {
  const t: TreeStats = await treeStats(path, treeExcludes(pair));
  const l = t.listing();
  return { where: 'local', path, missing: false, paths: l.paths, keys: l.keys, nowMs: t.nowMs, monoMs: t.monoMs, mounts: t.mounts, cacheRoot: path, racy: new Set(), rawDigest: t.rawDigest, links: t.links, rawListing: t.rawListing } as unknown as Side;
}

const plan = { send: [], replace: [{ path: 'd/f1' }], delete: [] } as never;

/** The trees' ctimes past the margin before their listings (else their roots count as changed since). */
const past = (): Promise<void> => new Promise((r) => setTimeout(r, 2100));

describe('the listing after a transfer', () => {
  it('patches the destination from what the transfer touched, the source from what changed since it was listed', async () => {
    const { pair, src, dst } = lab();
    await past();
    const before = { local: await side(pair, src), remote: await side(pair, dst) };
    writeFileSync(join(dst, 'd/f1'), 'one, replaced\n');
    const pushed = statsAfter(pair, 'push', before, touchedBy(plan));
    const got = (await pushed.remote) as TreeStats;
    expect(got.rawDigest).toBe((await treeStats(dst, treeExcludes(pair))).rawDigest);
    // The source untouched since (its files made within the second before its listing are looked at again): the same listing.
    expect(await pushed.local).toMatchObject({ rawDigest: before.local.rawDigest, nowMs: before.local.nowMs });
    writeFileSync(join(src, 'd/f3'), 'three, changed at the source\n');
    const source = (await statsAfter(pair, 'push', before, []).local) as TreeStats;
    expect(source.rawDigest).toBe((await treeStats(src, treeExcludes(pair))).rawDigest);
    expect(source.nowMs).toBe(before.local.nowMs); // the racy window judged by the older clock
    const pulled = statsAfter(pair, 'pull', { local: await side(pair, src), remote: await side(pair, dst) }, touchedBy(plan));
    expect(await pulled.remote).toMatchObject({ rawDigest: (await treeStats(dst, treeExcludes(pair))).rawDigest });
    expect(await pulled.local).toMatchObject({ rawDigest: (await treeStats(src, treeExcludes(pair))).rawDigest });
  });

  it('lists the source whole when its root changed, the wall clock stepped back, a mount came or went, and under LABSYNC_SOURCE_AFTER=whole', async () => {
    const { pair, src, dst } = lab();
    await past();
    const before = { local: await side(pair, src), remote: await side(pair, dst) };
    expect(before.local.mounts).toBeDefined();
    expect(await statsAfter(pair, 'push', before, []).local).toMatchObject({ rawDigest: before.local.rawDigest });
    // As if the clock had been set back 5 s after the listing: its changes could be stamped before the margin.
    expect(statsAfter(pair, 'push', { ...before, local: { ...before.local, nowMs: before.local.nowMs + 5000 } }, []).local).toBe(undefined);
    // As if a file system had been mounted inside the tree since it was listed (no ctime moves for that).
    expect(statsAfter(pair, 'push', { ...before, local: { ...before.local, mounts: `${before.local.mounts}\nxfs ${src}/d` } }, []).local).toBe(undefined);
    process.env.LABSYNC_SOURCE_AFTER = 'whole';
    const pushed = statsAfter(pair, 'push', before, touchedBy(plan));
    expect(pushed.local).toBe(undefined);
    expect(pushed.remote).toBeDefined();
    delete process.env.LABSYNC_SOURCE_AFTER;
    writeFileSync(join(src, 'top'), 'a new name in the root\n');
    expect(statsAfter(pair, 'push', before, []).local).toBe(undefined);
  });

  it('lists whole a destination gone meanwhile, one holding symlinks, and any under LABSYNC_AFTER=whole', async () => {
    const { pair, dst } = lab();
    const gone = await side(pair, dst);
    rmSync(dst, { recursive: true });
    expect(statsAfter(pair, 'push', { local: gone, remote: gone }, touchedBy(plan)).remote).toBe(undefined);
    const again = lab();
    symlinkSync('f0', join(again.dst, 'd/link'));
    const linked = await side(again.pair, again.dst);
    expect(linked.links).toBe(1);
    expect(statsAfter(again.pair, 'push', { local: linked, remote: linked }, touchedBy(plan)).remote).toBe(undefined);
    const plain = await side(again.pair, again.src);
    process.env.LABSYNC_AFTER = 'whole';
    expect(statsAfter(again.pair, 'pull', { local: plain, remote: plain }, touchedBy(plan))).toEqual({});
  });
});
