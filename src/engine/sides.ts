// One listing per side per run (issue 12): a local folder through the walker (find, else the
// workers), an ssh host through one ssh connection running GNU find. Each side keeps its own hash
// cache keyed by stat keys (size, mtime, ctime, inode), so what was hashed before and has not changed
// is never read again, here or on the host.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteListing, RemoteTree } from '../adapters/types.js';
import { readOutput } from '../exec/run.js';
import type { Endpoint, ResolvedPair } from '../types.js';
import { writeCacheFile, type Row, type Warn } from '../verify/cache-file.js';
import { treeKey } from '../verify/cache-key.js';
import { HashCache } from '../verify/hash-cache.js';
import { BATCH, dispatch, treeStats, type TreeStats } from '../verify/stat-tree.js';
import { vanished } from '../verify/batch.js';
import { listingFileFor } from '../verify/listing-file.js';
import type { RawListing } from '../verify/listing-match.js';
import { keysIn } from '../verify/listing-diff.js';
import type { AttemptContext } from './attempt.js';
import { probe, type Body } from './outcome.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import { HashedFiles } from './hashed-files.js';
import { heldToken, holdListing } from './ssh-held.js';
import { hostUnkept } from './host-unkept.js';
import { unkeptChangeTimes } from '../verify/mount-types.js';
import { settledAt } from '../verify/cache-key.js';

export type Key = readonly [size: number, mtimeMs: number, ctimeMs: number, ino: number];

export interface Side {
  readonly where: 'local' | 'ssh';
  /** The folder (local path or the host's path). */
  readonly path: string;
  /** The folder is not there (a destination not made yet, or a source that is missing). */
  readonly missing: boolean;
  readonly paths: readonly string[];
  readonly keys: Float64Array;
  /** This side's clock when the listing began: the racy window of its cache is judged by it. */
  readonly nowMs: number;
  /** A local side's performance.now() then, and the mounts its tree lay on (a local source's listing after: listing-after.ts). */
  readonly monoMs?: number;
  readonly mounts?: string;
  readonly cache: HashCache;
  /** The name the cache is kept under. */
  readonly cacheRoot: string;
  /** Hashed in the listing's own call (too fresh to remember, trusted for this run under the same key). */
  readonly fresh?: ReadonlyMap<string, { readonly key: Key; readonly sha256: string }>;
  readonly freshBytes?: number;
  /** sha256 of the excludes and find's raw listing, where find listed it (a tree summary recognises it unparsed). */
  readonly rawDigest?: string;
  /** Files hashed in this run too soon after they changed to be remembered (racy); see saveRacy. */
  readonly racy: Set<string>;
  /** Symlinks find met in the same walk (a local side); undefined: not known (no GNU find). */
  readonly links?: number;
  /** The file system type under the tree whose change times prove nothing (mount-types.ts): a local tree's mounts, a host's as it named it. */
  readonly unkept?: string;
  /** find's raw listing that rawDigest digests (after the excludes); undefined where find did not list. */
  raw?(): Buffer | undefined;
  /** The same listing as parts over the remembered one (a local side listed by find; listing-match.ts). */
  rawListing?(): RawListing | undefined;
}

/** Remembers a hash in the side's cache, or notes the file as racy (changed within the window). */
export function remember(side: Side, row: Row, nowMs: number): void {
  if (side.cache.put(row, nowMs)) side.racy.delete(row[0]);
  else side.racy.add(row[0]);
}

/** The ssh side's racy files of the last run: its next listing hashes them in the same call (no second login). */
const racyFile = (pair: ResolvedPair, root: string): string => join(cacheDir(pair), `${treeKey(root)}.racy`);

function readRacy(pair: ResolvedPair, root: string): string[] {
  try {
    return readFileSync(racyFile(pair, root), 'utf8').split('\0').filter(Boolean);
  } catch {
    return []; // none kept (or unreadable: those files are then hashed in a call of their own, as before)
  }
}

/** What an ssh host's next listing hashes in its own call: the last run's racy files (`plan` shows the argv they make). */
export const racyAsk = (pair: ResolvedPair): string[] => (pair.remote.type === 'ssh' ? readRacy(pair, sshRoot(pair.remote)) : []);

/** Keeps an ssh side's racy paths for its next listing (a file's hash is still judged by its key then). */
export async function saveRacy(pair: ResolvedPair, side: Side, warn: Warn): Promise<void> {
  if (side.where !== 'ssh') return;
  const file = racyFile(pair, side.cacheRoot);
  // A host folder whose hashes are never trusted would have the next listing hash its racy files for nothing (review 52).
  if (!side.racy.size || side.unkept) return void rmSync(file, { force: true });
  await writeCacheFile(file, [...side.racy].map((p) => `${p}\0`).join(''), warn);
}

export const keyAt = (s: Side, i: number): Key => [s.keys[i * 4] as number, s.keys[i * 4 + 1] as number, s.keys[i * 4 + 2] as number, s.keys[i * 4 + 3] as number];

/** The cached sha256 of the file listed at `i`, if it was hashed with exactly this stat key. */
export function cachedSha(s: Side, i: number): string | undefined {
  const path = s.paths[i] as string;
  const known = s.cache.shaOf(path, s.keys, i);
  if (known) return known;
  const f = s.fresh?.get(path);
  return f && f.key.every((v, k) => v === s.keys[i * 4 + k]) ? f.sha256 : undefined;
}

type SshEndpoint = Extract<Endpoint, { type: 'ssh' }>;

/** A remote's cache name: the host, port, user and path (a host's inode numbers mean nothing elsewhere). */
const sshRoot = (r: SshEndpoint): string => `ssh://${r.user ?? ''}@${r.host}:${r.port ?? 22}${r.path}`;

/** Whether a local folder holds a symlink (the plan carries regular files only; rsync's own listing does the rest). */
export async function holdsLinks(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  const r = await readOutput(['find', '.', '-type', 'l', '-print', '-quit'], path);
  return r.exitCode !== 0 || r.stdout.length > 0;
}

/** A damaged cache is told as the pair's warning (and rebuilt); without a context, on nobody's screen. */
const warnOf = (pair: ResolvedPair, ctx?: Pick<AttemptContext, 'emit'>): { warn?: (message: string) => void } =>
  ctx ? { warn: (message) => ctx.emit({ kind: 'warning', pair: pair.name, message }) } : {};

/** A side's cache for a new listing: the earlier listing's cache of the same tree realigned (not read again), else opened. */
function cacheFor(pair: ResolvedPair, root: string, listing: { readonly paths: readonly string[] }, earlier: Side | undefined, ctx?: Pick<AttemptContext, 'emit'>, unkept?: string): HashCache {
  // Not across a transfer where change times prove nothing (FUSE, FAT): a rewrite meanwhile may have kept the key (review 51).
  if (earlier && earlier.cacheRoot === root && !earlier.missing && !earlier.unkept) return earlier.cache.realign(listing);
  // Nor remembered there between runs (a host's; a local tree's own mounts HashCache.open looks at).
  return HashCache.open(unkept ? undefined : cacheDir(pair), root, { listing, ...warnOf(pair, ctx) });
}

/** The listing's clock, both readings from one moment: the found tree's, else the ones taken before it was asked for. */
function clockFrom(found: TreeStats, nowMs: number, monoMs: number): Pick<Side, 'nowMs' | 'monoMs' | 'mounts'> {
  const mounts = found.mounts === undefined ? {} : { mounts: found.mounts };
  if (found.nowMs === undefined) return { nowMs, monoMs, ...mounts };
  return { nowMs: found.nowMs, ...(found.monoMs === undefined ? {} : { monoMs: found.monoMs }), ...mounts };
}

/** A tree as already found, or being built from an earlier listing (undefined: it could not be: list it). */
export type Found = TreeStats | Promise<TreeStats | undefined>;

/** `given`: the tree as already found (unchanged.ts, listing-after.ts), so it is not listed twice; `earlier`: this tree's side from before a transfer. */
export async function listLocal(pair: ResolvedPair, path: string, ctx?: Pick<AttemptContext, 'emit'>, given?: Found, earlier?: Side): Promise<Side> {
  const nowMs = Date.now();
  const monoMs = performance.now();
  // find's output is kept over the listing this tree was last proved with: the one already in memory
  // from before a transfer, else its file (one copy of it per tree and run, however often listed).
  // `given` may answer undefined (a listing after a transfer that could not be built: listing-after.ts).
  const found = (await given) ?? (await treeStats(path, treeExcludes(pair), earlier?.rawListing?.()?.reference ?? listingFileFor(cacheDir(pair), path)));
  let cache: HashCache | undefined;
  // Where change times prove nothing, the same listing does not mean the same content: no digest to recognise it by.
  const unkept = unkeptChangeTimes(found.mounts);
  // The listing and the hash cache come on first use: an unchanged pair never asks (side-summary.ts).
  return {
    where: 'local', path, missing: !existsSync(path), ...clockFrom(found, nowMs, monoMs), cacheRoot: path, racy: new Set(), ...(found.rawDigest && !unkept ? { rawDigest: found.rawDigest } : {}), ...(unkept ? { unkept } : {}), ...(found.links === undefined ? {} : { links: found.links }),
    get paths() { return found.listing().paths; },
    get keys() { return found.listing().keys; },
    get cache() { return (cache ??= cacheFor(pair, path, found.listing(), earlier, ctx)); },
    raw: () => found.raw?.(),
    rawListing: () => found.rawListing?.(),
  };
}

export type Listed = { side: Side } | { unsupported: string } | { stop: Body };

/**
 * `hash`: files to hash in the same call (what a transfer just wrote there). `held`: `hold` keeps the
 * host's session open for the transfer (ssh-held.ts); `answer`: the host's listing in that session
 * (undefined: the session failed, and the usual call lists).
 */
export async function listRemote(pair: ResolvedPair, ctx: AttemptContext, stats?: Found, earlier?: Side, held?: { hold: true } | { answer: Promise<RemoteListing | undefined> }): Promise<Listed> {
  if (pair.remote.type === 'local') {
    const side = await listLocal(pair, pair.remote.path, ctx, stats, earlier);
    if (side.links !== undefined ? side.links > 0 : await holdsLinks(pair.remote.path)) return { unsupported: 'the folder holds symlinks' };
    return { side };
  }
  if (pair.remote.type !== 'ssh' || !ctx.adapter.files?.hash) return { unsupported: `${pair.tool} does not list ${pair.remote.type} remotes` };
  const remote = pair.remote;
  const root = sshRoot(remote);
  // The last run's racy files ride this listing's call; hashed after find, each is used only under the key find gives it.
  const ask = [...new Set(readRacy(pair, root))];
  // One listing, which the adapter may also give as a session kept open for the transfer (ssh-held.ts).
  const list = ctx.adapter.files?.list(pair, pair.mode, { excludes: treeExcludes(pair), hash: ask, ...(held && 'hold' in held ? { hold: heldToken() } : {}) });
  if (!list || !('tree' in list)) return { unsupported: `${pair.tool} does not list ${pair.remoteLabel} as a tree` };
  const kept = list.held ? await holdListing(pair, list.held, ctx) : undefined;
  let answer = held && 'answer' in held ? await held.answer : kept?.answer;
  if (!answer) {
    const got = await probe(list.tree, ctx);
    if ('stop' in got) return got;
    answer = got.value;
  }
  if ('unsupported' in answer) return answer;
  const tree: RemoteTree = 'missing' in answer ? { nowMs: 0, paths: [], keys: new Float64Array(0) } : answer;
  const unkept = hostUnkept(pair, root, tree, earlier, ctx);
  const fresh = new Map<string, { key: Key; sha256: string }>();
  let freshBytes = 0;
  for (const [p, key] of unkept ? [] : (tree.hashes?.keys ?? [])) {
    const sha256 = tree.hashes?.sha256.get(p);
    // A hash the host took of a file whose key a later rewrite could keep is not trusted, even for this run (review 50).
    if (!sha256 || !settledAt(key[2], tree.hashes?.nowMs ?? 0)) continue;
    fresh.set(p, { key, sha256 });
    freshBytes += key[0];
  }
  let cache: HashCache | undefined;
  const racy = new Set<string>();
  const openCache = (): HashCache => {
    const c = cacheFor(pair, root, tree, earlier, ctx, unkept);
    for (const [p, f] of fresh) if (!c.put([p, f.key[0], f.key[1], f.key[2], f.key[3], f.sha256, '', '', 0], tree.nowMs)) racy.add(p);
    return c;
  };
  // Not spread: the listing's paths and keys, and the cache lined up with them, come on first use.
  const side: Side = {
    where: 'ssh', path: remote.path, missing: 'missing' in answer, nowMs: tree.nowMs, cacheRoot: root, fresh, freshBytes, racy,
    ...(tree.rawDigest && !unkept ? { rawDigest: tree.rawDigest } : {}), ...(unkept ? { unkept } : {}),
    get paths() { return tree.paths; },
    get keys() { return tree.keys; },
    get cache() { return (cache ??= openCache()); },
    raw: () => tree.raw,
  };
  kept?.keep(side);
  return { side };
}

/**
 * `now`, the host listed again after a transfer, with what `before` (its listing earlier in the run)
 * hashed in the listing's own call, where the file is listed now under the very key it was hashed with:
 * the last run's racy copy is not hashed again over a session of its own when another file was sent.
 */
export function carryFresh(now: Side, before: Side): Side {
  if (now === before || !before.fresh?.size || now.fresh?.size) return now;
  const raw = now.raw?.();
  if (!raw) return now;
  const keys = keysIn(raw, before.fresh.keys());
  const fresh = new Map<string, { key: Key; sha256: string }>();
  let freshBytes = 0;
  for (const [p, f] of before.fresh) {
    const k = keys.get(p);
    if (!k || !k.every((v, i) => v === f.key[i])) continue;
    fresh.set(p, f);
    freshBytes += f.key[0];
  }
  // Not spread: `now`'s listing and cache come on first use (its getters), as listRemote made them.
  return fresh.size ? Object.create(now, { fresh: { value: fresh }, freshBytes: { value: freshBytes } }) as Side : now;
}

export interface Hashed {
  /** What was read, by the index of the asked path (hashed-files.ts). */
  readonly files: HashedFiles;
  readonly bytes: number;
  /** The side's clock when the hashing began (what is racy is judged by it). */
  readonly nowMs: number;
}

/**
 * Hashes `paths` on their side (the workers here, sha256sum on the host) and remembers what is not
 * racy in the side's cache; `keep: false`: the caller keeps them (engine/incremental.ts, which never loads the cache).
 */
export async function hashOn(side: Side, pair: ResolvedPair, paths: readonly string[], ctx: AttemptContext, keep = true): Promise<Hashed | { unsupported: string } | { stop: Body }> {
  const files = new HashedFiles(paths);
  if (!paths.length) return { files, bytes: 0, nowMs: 0 };
  let nowMs: number;
  if (side.where === 'local') {
    nowMs = Date.now();
    const parts: Promise<void>[] = [];
    for (let at = 0; at < paths.length; at += BATCH) {
      const from = at;
      const batch = paths.slice(at, at + BATCH);
      // Digests as bytes (no hex string per file, here or in the worker's answer).
      parts.push(dispatch({ op: 'hash', root: side.path, paths: batch, sha256: true, sha256Bytes: true }, paths.length <= BATCH).then((r) => {
        const bad = r.errors.find((e) => !vanished(e));
        if (bad) throw new Error(`cannot read ${side.path}/${batch[bad[0]]}: ${bad[2]}`);
        for (let i = 0; i < batch.length; i++) {
          if (Number.isNaN(r.keys[i * 4])) continue;
          files.setBytes(from + i, r.keys, i, r.shaBytes as Uint8Array);
        }
      }));
    }
    await Promise.all(parts);
  } else {
    if (!ctx.adapter.files?.hash) return { unsupported: `${pair.tool} cannot hash files on ${pair.remoteLabel}` };
    const got = await probe(ctx.adapter.files.hash(pair, paths), ctx);
    if ('stop' in got) return got;
    const answer = got.value;
    if ('unsupported' in answer) return answer;
    nowMs = answer.nowMs;
    paths.forEach((p, i) => {
      const k = answer.keys.get(p);
      const sha = answer.sha256.get(p);
      if (k && sha) files.set(i, k, sha);
    });
  }
  let bytes = 0;
  const { keys, digests } = files;
  for (let i = 0; i < paths.length; i++) {
    if (!files.readAt(i)) continue;
    bytes += keys[i * 4] as number;
    if (!keep) continue;
    const p = paths[i] as string;
    // From the bytes: no row or hex string per file (a whole comparison remembers every file it read).
    const kept = files.hasShaAt(i) ? side.cache.putSha(p, keys, i, digests, i * 32, nowMs) : side.cache.put([p, keys[i * 4] as number, keys[i * 4 + 1] as number, keys[i * 4 + 2] as number, keys[i * 4 + 3] as number, '', '', '', 0], nowMs);
    if (kept) side.racy.delete(p);
    else side.racy.add(p);
  }
  return { files, bytes, nowMs };
}
