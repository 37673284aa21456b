// One listing of each side per run (issue 12): the remote through its adapter's lister, the local
// folder through the walker and the hash cache (a file whose stat key is unchanged is not read).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Adapter, Lister, RemoteEntries, ToolOutput } from '../adapters/types.js';
import { directTarget } from '../exec/s3-direct.js';
import { listS3, pageUrl } from '../exec/s3-list.js';
import { formatCommand } from '../exec/format.js';
import type { Entry } from '../verify/compare.js';
import { listingOf } from '../plan/compute.js';
import type { Listing } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { hashTree, statTree } from '../verify/hash-tree.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir, treeExcludes } from './compare-pair.js';
import { probe, type Body } from './outcome.js';
import { rememberRemoteCommit } from './receipt.js';

/** The local folder as entries: the digests the remote can be compared with, else size and mtime. */
export async function localListing(pair: ResolvedPair, want: Lister['local'], ctx: Pick<AttemptContext, 'emit'>, hashed?: { bytes: number }): Promise<Listing> {
  if (!existsSync(pair.local)) return listingOf([]);
  const excludes = treeExcludes(pair);
  if (!hasDigest(want)) {
    const l = await statTree(pair.local, excludes);
    return listingOf(l.paths.map((path, i) => ({ path, size: l.keys[i * 4] as number, mtimeMs: l.keys[i * 4 + 1] as number })));
  }
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  const files = await hashTree(pair.local, { excludes, sha256: Boolean(want.sha256), md5: Boolean(want.md5), ...(want.etagPartSize ? { etagPartSize: want.etagPartSize } : {}), cacheDir: cacheDir(pair), warn, ...(hashed ? { hashed } : {}) });
  return listingOf(files);
}

/** Whether the local side knows a digest the remote's listing can be compared with. */
export const hasDigest = (want: Lister['local']): boolean => Boolean(want.md5 || want.etagPartSize || want.sha256);

/**
 * The remote's listing, taken once: an S3 remote by labsync itself when it can be sure to reach it as
 * aws-cli would (s3-direct.ts); else, or when that fails in any way, by the tool, whose retries and
 * error messages then apply. `show` receives what was run, as the pair's commands.
 */
export async function remoteListing(lister: Lister, ctx: AttemptContext, show: Show = () => undefined): Promise<{ value: Listing; outputs: readonly ToolOutput[] } | { stop: Body }> {
  const direct = lister.s3 ? await listDirect(lister.s3, ctx) : undefined;
  if (direct?.entries) {
    show([direct.shown as string]);
    return { value: listingOf(direct.entries), outputs: [] };
  }
  if (direct?.shown) show([direct.shown]);
  show(lister.remote.commands.map((c) => formatCommand(c, ctx.redact)));
  const got = await probe<RemoteEntries>(lister.remote, ctx);
  if ('stop' in got) return got;
  if (got.value.revision) rememberRemoteCommit(ctx.pair, got.value.revision);
  const value = listingOf(got.value);
  // A listing's digest leaves out sha256s (the local side's come from a cache); where the remote has
  // commits (hf), its commit id stands for the content, so a saved plan goes stale when it moves.
  const digest = got.value.revision ? createHash('sha256').update(`${value.digest}\0${got.value.revision}`).digest('hex') : value.digest;
  return { value: { ...value, digest }, outputs: got.outputs };
}

/**
 * Local entries with git blob ids where the remote lists one and no sha256 (files the Hugging Face Hub
 * keeps in git, not LFS: small ones). Read on every comparison, not cached: only same-size files are read.
 */
export async function withBlobIds(pair: ResolvedPair, local: Listing, remote: Listing, hashed?: { bytes: number }): Promise<Listing> {
  const wanted = new Map(remote.entries.filter((e) => e.gitSha1 && !e.sha256).map((e) => [e.path, e.size]));
  if (!wanted.size) return local;
  const entries = await Promise.all(local.entries.map(async (e) => {
    if (wanted.get(e.path) !== e.size) return e;
    const bytes = await readFile(join(pair.local, e.path));
    if (hashed) hashed.bytes += bytes.length;
    return { ...e, gitSha1: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex') };
  }));
  return listingOf(entries);
}

export type Show = (lines: readonly string[]) => void;

/** Listings labsync took itself in this process (the tests count them through --json's commands). */
async function listDirect(remote: NonNullable<Lister['s3']>, ctx: AttemptContext): Promise<{ entries?: Entry[]; shown?: string }> {
  const target = directTarget(remote, process.env, awsConfigText(process.env));
  if ('reason' in target) return {};
  const pages = { n: 0 };
  const what = `GET ${pageUrl(target).href.replace(/\?.*$/, '')} list-objects-v2 prefix=${target.prefix ? `${target.prefix}/` : ''} (labsync's own listing`;
  try {
    const entries = await listS3(target, { signal: ctx.signal, requestTimeoutMs: Math.min(60_000, ctx.pair.stallTimeoutMs) }, pages);
    return { entries, shown: `${what}, ${pages.n} page${pages.n === 1 ? '' : 's'})` };
  } catch (error) {
    if (ctx.signal.aborted) return {};
    const why = (error as Error).name === 'TimeoutError' ? 'no answer in time' : ctx.redact((error as Error).message);
    return { shown: `${what} failed: ${why}; aws-cli lists instead)` };
  }
}

function awsConfigText(env: NodeJS.ProcessEnv): string {
  const file = env.AWS_CONFIG_FILE ?? (env.HOME ? join(env.HOME, '.aws', 'config') : undefined);
  try {
    return file ? readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

/** The lister this pair's comparison can use without the tool: one whose local side knows a digest. */
export function digestLister(adapter: Adapter, pair: ResolvedPair, direction: Parameters<NonNullable<Adapter['lister']>>[1]): Lister | undefined {
  const l = adapter.lister?.(pair, direction);
  return l && hasDigest(l.local) ? l : undefined;
}

