// One listing of each side per run (issue 12): the remote through its adapter's lister, the local
// folder through the walker and the hash cache (a file whose stat key is unchanged is not read).
import { existsSync } from 'node:fs';
import type { Adapter, Lister, ToolOutput } from '../adapters/types.js';
import { listingOf } from '../plan/compute.js';
import type { Listing } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import type { Entry } from '../verify/compare.js';
import { hashTree, statTree } from '../verify/hash-tree.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir, treeExcludes } from './compare-pair.js';
import { probe, type Body } from './outcome.js';

/** The local folder as entries: the digests the remote can be compared with, else size and mtime. */
export async function localListing(pair: ResolvedPair, want: Lister['local'], ctx: Pick<AttemptContext, 'emit'>, hashed?: { bytes: number }): Promise<Listing> {
  if (!existsSync(pair.local)) return listingOf([]);
  const excludes = treeExcludes(pair);
  if (!want.md5 && !want.sha256 && !want.etagPartSize) {
    const l = await statTree(pair.local, excludes);
    return listingOf(l.paths.map((path, i) => ({ path, size: l.keys[i * 4] as number, mtimeMs: l.keys[i * 4 + 1] as number })));
  }
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  const files = await hashTree(pair.local, { excludes, sha256: Boolean(want.sha256), md5: Boolean(want.md5), ...(want.etagPartSize ? { etagPartSize: want.etagPartSize } : {}), cacheDir: cacheDir(pair), warn, ...(hashed ? { hashed } : {}) });
  return listingOf(files);
}

export async function remoteListing(lister: Lister, ctx: AttemptContext): Promise<{ value: Listing; outputs: readonly ToolOutput[] } | { stop: Body }> {
  const got = await probe<readonly Entry[]>(lister.remote, ctx);
  return 'stop' in got ? got : { value: listingOf(got.value), outputs: got.outputs };
}

/** The lister this pair's comparison can use without the tool: one whose local side knows a digest. */
export function digestLister(adapter: Adapter, pair: ResolvedPair, direction: Parameters<NonNullable<Adapter['lister']>>[1]): Lister | undefined {
  const l = adapter.lister?.(pair, direction);
  return l && (l.local.md5 || l.local.sha256 || l.local.etagPartSize) ? l : undefined;
}

