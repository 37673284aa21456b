// One listing of each side per run (issue 12): the remote through its adapter's lister, the local
// folder through the walker and the hash cache (a file whose stat key is unchanged is not read).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasOddSegment } from '../plan/odd-path.js';
import type { Adapter, Lister, RemoteEntries, ToolOutput } from '../adapters/types.js';
import { storeLister } from '../adapters/files.js';
import { directTarget, type S3Target } from '../exec/s3-direct.js';
import { listS3, pageUrl } from '../exec/s3-list.js';
import { readMd5Meta } from '../exec/s3-meta.js';
import { formatCommand } from '../exec/format.js';
import type { Entry } from '../verify/compare.js';
import { listingOf, opaqueEtagsOf } from '../plan/compute.js';
import type { Listing } from '../plan/types.js';
import type { Direction, ResolvedPair } from '../types.js';
import { compileExcludes } from '../verify/glob.js';
import { hashTree, statTree } from '../verify/hash-tree.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import { probe, type Body } from './outcome.js';
import { rememberRemoteCommit } from './receipt.js';

/** The local folder as entries: the digests the remote can be compared with, else size and mtime. `fresh`: every file read again (a full check). */
export async function localListing(pair: ResolvedPair, want: Lister['local'], ctx: Pick<AttemptContext, 'emit'>, hashed?: { bytes: number }, fresh = false): Promise<Listing> {
  if (!existsSync(pair.local)) return listingOf([]);
  const excludes = treeExcludes(pair);
  if (!hasDigest(want)) {
    const l = await statTree(pair.local, excludes);
    return listingOf(l.paths.map((path, i) => ({ path, size: l.keys[i * 4] as number, mtimeMs: l.keys[i * 4 + 1] as number })));
  }
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  const files = await hashTree(pair.local, { excludes, sha256: Boolean(want.sha256), md5: Boolean(want.md5), ...(want.etagPartSize ? { etagPartSize: want.etagPartSize } : {}), ...(want.etagThreshold ? { etagThreshold: want.etagThreshold } : {}), ...(want.mtime ? { mtime: true } : {}), cacheDir: cacheDir(pair), warn, ...(hashed ? { hashed } : {}), fresh });
  return listingOf(files);
}

/** Whether the local side knows a digest the remote's listing can be compared with. */
export const hasDigest = (want: Lister['local']): boolean => Boolean(want.md5 || want.etagPartSize || want.sha256);

/**
 * The remote's listing, taken once: an S3 remote by labsync itself when it can be sure to reach it as
 * aws-cli would (s3-direct.ts); else, or when that fails in any way, by the tool, whose retries and
 * error messages then apply. `show` receives what was run, as the pair's commands.
 */
export async function remoteListing(lister: Lister, ctx: AttemptContext, show: Show = () => undefined): Promise<{ value: Listing; outputs: readonly ToolOutput[]; revision?: string; unset?: string; pushSets?: boolean } | { stop: Body }> {
  const direct = await listDirect(lister, ctx);
  if (direct?.entries) {
    show([direct.shown as string]);
    return { value: listingOf(unexcluded(ctx.pair, direct.entries)), outputs: [] };
  }
  if (direct?.shown) show([direct.shown]);
  show(lister.remote.commands.map((c) => formatCommand(c, ctx.redact)));
  const got = await probe<RemoteEntries>(lister.remote, ctx);
  if ('stop' in got) return got;
  if (got.value.revision) rememberRemoteCommit(ctx.pair, got.value.revision);
  // aws-cli's listing holds every key under the prefix; rclone filters its own, by its own reading of
  // the patterns: labsync's matcher is the one rule for what the plan may send or delete.
  const value = listingOf(unexcluded(ctx.pair, got.value));
  // A listing's digest leaves out sha256s (the local side's come from a cache); where the remote has
  // commits (hf) or versions (mlflow), that name stands for the content, so a saved plan goes stale when it moves.
  const named = got.value.revision ?? (got.value.version === undefined ? undefined : `version ${got.value.version}`);
  const names = got.value.unset ? `${named ?? ''}\0${got.value.unset}` : named;
  const digest = names ? createHash('sha256').update(`${value.digest}\0${names}`).digest('hex') : value.digest;
  return { value: { ...value, digest }, outputs: got.outputs, ...(got.value.revision ? { revision: got.value.revision } : {}), ...(got.value.unset ? { unset: got.value.unset, pushSets: Boolean(got.value.pushSets) } : {}) };
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

/**
 * A remote listing (an S3 listing holds every key under the prefix) under the pair's excludes, as the
 * local walk (a key, or any folder above it): an excluded object is neither sent over nor deleted by a
 * mirror, as `aws s3 sync --exclude` left it, whatever the tool made of the patterns.
 */
function unexcluded(pair: ResolvedPair, entries: readonly Entry[]): Entry[] {
  const m = compileExcludes(treeExcludes(pair));
  return entries.filter((e) => {
    if (m.excludes(e.path, false)) return false;
    for (let at = e.path.indexOf('/'); at > 0; at = e.path.indexOf('/', at + 1)) if (m.excludes(e.path.slice(0, at), true)) return false;
    return true;
  });
}

export type Show = (lines: readonly string[]) => void;

/** Where labsync's own listing of this lister's remote goes, or why it cannot take it; undefined: not S3. */
export function targetOf(lister: Lister, env: NodeJS.ProcessEnv = process.env): S3Target | { reason: string } | undefined {
  if (lister.s3) return directTarget(lister.s3, env, awsConfigText(env));
  return lister.s3Direct?.target(env, readText);
}

/**
 * Entries as the lister's tool would give them. For rclone: an MD5 from an ETag that is a plain MD5,
 * else the MD5 rclone keeps in the object's metadata (X-Amz-Meta-Md5chksum; rclone reads it with a
 * HEAD each, labsync with a one-byte GET each: s3-meta.ts), else none — never a multipart ETag taken
 * for an MD5; and the upload time, not as an mtime (rclone's --use-server-modtime listing). A key with a path segment rclone
 * names otherwise (empty, "." or "..") leaves the listing to rclone: `why`.
 */
async function asTool(lister: Lister, target: S3Target, entries: Entry[], ctx: AttemptContext, read: { n: number }): Promise<{ entries: Entry[] } | { why: string }> {
  if (lister.s3) return { entries };
  if (entries.some((e) => hasOddSegment(e.path))) return { why: 'a key is no file name for rclone' };
  const out: Entry[] = entries.map((e) => ({ path: e.path, size: e.size, ...(e.uploadedMs === undefined ? {} : { uploadedMs: e.uploadedMs }), ...(e.etag && PLAIN_MD5.test(e.etag) ? { md5: e.etag } : {}) }));
  // `etag: opaque`: no ETag is an MD5 there, and a request per object for the metadata's would be the
  // per-object cost the listing exists to avoid: no MD5 at all (the plan goes by upload times).
  if (opaqueEtagsOf(ctx.pair.remote)) return { entries: out.map(({ md5: _md5, ...e }) => e) };
  const unknown = out.map((e, i) => [e, i] as const).filter(([e]) => !e.md5);
  const options = { signal: ctx.signal, requestTimeoutMs: Math.min(60_000, ctx.pair.stallTimeoutMs) };
  // A few at a time, as rclone's listing checks them (--checkers 8).
  for (let at = 0; at < unknown.length; at += 8) {
    await Promise.all(unknown.slice(at, at + 8).map(async ([e, i]) => {
      const md5 = await readMd5Meta(target, e.path, options);
      read.n += 1;
      if (md5) out[i] = { ...e, md5 };
    }));
  }
  return { entries: out };
}

const PLAIN_MD5 = /^[0-9a-f]{32}$/;

/** How labsync's own listing of `target` is shown (the run adds its pages; `plan` closes it as it is). */
export const ownListingLine = (target: S3Target): string => `${listUrl(target)} list-objects-v2 prefix=${target.prefix ? `${target.prefix}/` : ''} (labsync's own listing`;

/** The request a listing of `target` starts with, as --json's commands show it. */
export const listUrl = (target: S3Target): string => `GET ${pageUrl(target).href.replace(/\?.*$/, '')}`;

/** Listings labsync took itself in this process (the tests count them through --json's commands). */
async function listDirect(lister: Lister, ctx: AttemptContext): Promise<{ entries?: Entry[]; shown?: string } | undefined> {
  const target = targetOf(lister);
  if (!target || 'reason' in target) return undefined;
  const pages = { n: 0 };
  const read = { n: 0 };
  const what = ownListingLine(target);
  const tool = lister.s3 ? 'aws-cli' : ctx.pair.tool;
  try {
    const listed = await listS3(target, { signal: ctx.signal, requestTimeoutMs: Math.min(60_000, ctx.pair.stallTimeoutMs) }, pages);
    const got = await asTool(lister, target, listed, ctx, read);
    const taken = `${pages.n} page${pages.n === 1 ? '' : 's'}${read.n ? `, the MD5 of ${read.n} object${read.n === 1 ? '' : 's'} from its metadata` : ''}`;
    if ('why' in got) return { shown: `${what}, ${taken}: ${got.why}; ${tool} lists instead)` };
    return { entries: got.entries, shown: `${what}, ${taken})` };
  } catch (error) {
    if (ctx.signal.aborted) return {};
    const why = (error as Error).name === 'TimeoutError' ? 'no answer in time' : ctx.redact((error as Error).message);
    return { shown: `${what} failed: ${why}; ${tool} lists instead)` };
  }
}

/**
 * The remote after a push of a few files: each planned key listed on its own (a request that returns
 * one object), merged into the listing the plan was made from, instead of listing everything again.
 * Against moto a page of 1000 objects costs about what 100 such requests do; beyond a hundredth of the
 * destination, or where labsync cannot list S3 itself, the whole listing is taken again. The other
 * entries are the plan's own listing, already compared with the local side.
 */
export async function remoteAfterPush(lister: Lister, ctx: AttemptContext, before: Listing, keys: readonly string[], show: Show): Promise<{ value: Listing } | { stop: Body }> {
  const target = keys.length <= Math.max(1, before.entries.length / 100) ? targetOf(lister) : undefined;
  if (!target || 'reason' in target) return remoteListing(lister, ctx, show);
  const wanted = new Set(keys);
  const listed: Entry[] = [];
  const found: Entry[] = [];
  try {
    for (const key of wanted) {
      const got = await listS3(target, { signal: ctx.signal, requestTimeoutMs: Math.min(60_000, ctx.pair.stallTimeoutMs), under: key });
      for (const e of got) if (e.path === key) listed.push(e);
    }
    const got = await asTool(lister, target, listed, ctx, { n: 0 });
    if ('why' in got) return remoteListing(lister, ctx, show);
    found.push(...got.entries);
  } catch {
    return remoteListing(lister, ctx, show);
  }
  show([`${listUrl(target)} list-objects-v2 of ${wanted.size} planned key${wanted.size === 1 ? '' : 's'} (labsync's own listing)`]);
  return { value: listingOf([...before.entries.filter((e) => !wanted.has(e.path)), ...found]) };
}

export function awsConfigText(env: NodeJS.ProcessEnv): string {
  const file = env.AWS_CONFIG_FILE ?? (env.HOME ? join(env.HOME, '.aws', 'config') : undefined);
  return file ? readText(file) : '';
}

/** A file's text, '' when it cannot be read (no file is a configuration of nothing). */
function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The lister this pair's comparison can use without the tool: one whose local side knows a digest. */
export function digestLister(adapter: Adapter, pair: ResolvedPair, direction: Direction): Lister | undefined {
  const l = storeLister(adapter, pair, direction);
  return l && hasDigest(l.local) ? l : undefined;
}

