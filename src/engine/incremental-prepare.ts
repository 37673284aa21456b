// The near side's hash cache rewrite of a small push, made while the listings after the transfer run
// (issue 12, one changed file): after rsync ends, this process mostly waits (for the local `find`, and
// for the host's listing after rsync --server, which ends later), and then streams the source's cache
// (~20 ms at 10k files) to put the planned files' rows in. Here that stream is done ahead into a temp
// file, from the source as listed before the transfer and the planned files read now. Nothing is
// trusted from it: rememberIncremental (incremental-remember.ts) puts it in place only when the update
// the verify then asks for is exactly the one prepared and the cache file is still the one read (its
// stat key); anything else (a file changed during the transfer, a racy window crossed, a verify that
// found drift or went the whole way) drops it, and the usual rewrite runs.
import type { ResolvedPair } from '../types.js';
import { prepareRewrite, type PreparedRewrite } from '../verify/cache-update.js';
import { HashCache } from '../verify/hash-cache.js';
import type { Key } from '../verify/listing-diff.js';
import { sortBytewise } from '../verify/walk.js';
import type { AttemptContext } from './attempt.js';
import { keysNow, type Planned, type Read } from './incremental.js';
import { rowsFor, updateFor } from './incremental-remember.js';
import { fromCache } from './incremental-verify.js';
import { cacheDir } from './pair-tree.js';
import { hashOn, type Side } from './sides.js';
import { mark } from '../util/trace.js';

/** Past this many planned bytes nothing is prepared (the planned files are read here, before the listings after the transfer end). */
export const PREPARE_MAX_BYTES = 2 * 1024 * 1024;

/**
 * A rewrite made ahead, with what was read for it: the verify takes those hashes where the source still
 * has the key they were read under (the hash cache's own rule), so the planned files are read once, and
 * counts `bytesRead` as its own (`bytesHashed` is every byte the run read to prove the copy).
 */
export interface Prepared extends PreparedRewrite {
  readonly bytesRead: number;
  readonly ahead: Read;
}

/**
 * The local (source) side's cache rewrite as the verify after this push will ask for it, if the source
 * is still as listed and the host holds what the plan sends; undefined where none is made (never
 * throws). `local`: the source as listed before the transfer.
 */
export async function prepareNear(pair: ResolvedPair, planned: Planned, local: Side, ctx: AttemptContext): Promise<Prepared | undefined> {
  try {
    const { plan, inc } = planned;
    const sent = [...plan.send, ...plan.replace];
    if (!sent.length || plan.delete.length || sent.reduce((n, f) => n + f.size, 0) > PREPARE_MAX_BYTES) return undefined;
    const d = inc.local;
    // A side with nothing changed keeps its cache as it is (rememberIncremental): nothing to prepare.
    if (d.side !== local || !d.changes.size) return undefined;
    // As verifyIncremental will have them once the host holds the planned files: the same changed
    // paths (the sent ones are among them) and racy files, the host's sizes of the sent files the source's.
    const racy = [...(d.summary.racy ?? []), ...(inc.remote.summary.racy ?? [])].map((r) => r.path);
    const check = sortBytewise([...new Set([...inc.paths, ...racy])]);
    const kl = keysNow(d, inc, check);
    const kr = keysNow(inc.remote, inc, check);
    if (!kl || !kr) return undefined;
    const sentPaths = new Set(sent.map((f) => f.path));
    const both = check.filter((p) => {
      const a = kl.get(p);
      const b = sentPaths.has(p) ? a : kr.get(p);
      return a !== undefined && b !== undefined && a[0] === b[0];
    });
    const got: Read = fromCache(pair, d, kl, both, false);
    const ask = both.filter((p) => !got.has(p));
    const hashed = await hashOn(local, pair, ask, ctx, false);
    if (!('files' in hashed)) return undefined;
    const ahead: Read = new Map();
    for (const [p, key, sha256] of hashed.files.entries()) {
      const r = { key: key as Key, sha256, nowMs: hashed.nowMs };
      got.set(p, r);
      ahead.set(p, r);
    }
    const { rows, racy: racyNow } = rowsFor(check, kl, got);
    const made = await prepareRewrite(HashCache.fileFor(cacheDir(pair), d.side.cacheRoot), d.side.cacheRoot, updateFor(d, rows, racyNow, true, false), true);
    mark('near cache prepared');
    return { ...made, bytesRead: hashed.bytes, ahead };
  } catch (error) {
    // Only a speed-up: the verify then rewrites the cache as it always did. Said where it is traced.
    mark(`near cache not prepared: ${(error as Error).message}`);
    return undefined;
  }
}

/** prepareNear once the listings after the transfer have started their processes (they come first: this thread then streams a cache). */
export const prepareSoon = (pair: ResolvedPair, planned: Planned, local: Side, ctx: AttemptContext): Promise<Prepared | undefined> =>
  new Promise<void>((resolve) => setImmediate(resolve)).then(() => prepareNear(pair, planned, local, ctx));
