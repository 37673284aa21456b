// The far (destination) side's hash cache rewrite of a small push, made while the source's find after
// the transfer still runs (issue 12, one changed file). At 50k files the host's listing after is in
// ~45 ms after rsync ends (patched from the transfer, listing-patch.ts), the source's find ~165 ms after
// (medians of 11 pushes over the loopback sshd); the far side's update is made of the sent files' hashes (read ahead by prepareNear, proved on
// the host by rsync's transfer checksum) and its cache rows under the keys listed now, all known at
// the first of the two. So the verify's update is worked out here as verifyIncremental and
// rememberIncremental will make it, with the source as listed before the transfer standing in for the
// one find is listing, and its rewrite written into a temp file. Nothing is trusted from it:
// rememberIncremental puts it in place only when the update the verify then asks for is exactly this one
// and the cache file is still the one read (its stat key); anything else drops it.
import type { ResolvedPair } from '../types.js';
import { prepareRewrite, type PreparedRewrite } from '../verify/cache-update.js';
import { HashCache } from '../verify/hash-cache.js';
import { sortBytewise } from '../verify/walk.js';
import type { Written } from './compare-listed.js';
import { incrementalOf, keysNow, type Planned, type Read } from './incremental.js';
import { prepareSoon, type Prepared } from './incremental-prepare.js';
import type { AttemptContext } from './attempt.js';
import { followsFrom, rowsFor, sameKey, updateFor } from './incremental-remember.js';
import { fromCache } from './incremental-verify.js';
import { cacheDir } from './pair-tree.js';
import type { Side } from './sides.js';
import { mark } from '../util/trace.js';

const skip = (why: string): undefined => {
  mark(`far cache not prepared: ${why}`);
  return undefined;
};

/**
 * The far side's cache rewrite as the verify after this push will ask for it, where it needs no file
 * read (every compared path is a sent file proved by the transfer, or has its row under the key listed
 * now); undefined where none is made (never throws). `local`: the source as listed before the
 * transfer; `after`: the host as listed after it (as the verify will take it); `near`: prepareNear's.
 */
export async function prepareFar(pair: ResolvedPair, planned: Planned, local: Side, after: Promise<Side | undefined>, near: Promise<Prepared | undefined>, written: Written | undefined): Promise<PreparedRewrite | undefined> {
  try {
    const [remote, pre] = await Promise.all([after, near]);
    if (!remote || !written || written.from !== 'local') return skip('no listing after, or nothing written');
    // The sides as the verify will find them when the source is as it was listed (incrementalOf, earlier = as planned).
    const inc = incrementalOf(pair, local, remote, planned.inc);
    if (!inc) return skip('not as remembered');
    const racyPaths = [...(inc.local.summary.racy ?? []), ...(inc.remote.summary.racy ?? [])].map((r) => r.path);
    const check = sortBytewise([...new Set([...inc.paths, ...racyPaths])]);
    const kl = keysNow(inc.local, inc, check);
    const kr = keysNow(inc.remote, inc, check);
    if (!kl || !kr) return skip('a path not listed');
    const both = check.filter((p) => {
      const [a, b] = [kl.get(p), kr.get(p)];
      return a !== undefined && b !== undefined && a[0] === b[0];
    });
    // The source's hashes as the verify takes them: its cache rows, else what prepareNear read (under the key listed).
    const here: Read = fromCache(pair, inc.local, kl, both, false);
    for (const [p, r] of pre?.ahead ?? []) {
      const k = kl.get(p);
      if (k && sameKey(k, r.key) && !here.has(p)) here.set(p, r);
    }
    const far: Read = fromCache(pair, inc.remote, kr, both, false);
    for (const p of both) {
      const f = remote.fresh?.get(p);
      if (f && !far.has(p)) far.set(p, { key: f.key, sha256: f.sha256, nowMs: remote.nowMs });
    }
    for (const p of both) {
      const a = kl.get(p);
      const b = kr.get(p);
      const planned = written.keys.get(p);
      const src = here.get(p);
      if (!src) return skip(`${p} is read by the verify here`);
      // Proved by the transfer (the verify's `derived`): the source's hash under the host's key.
      if (planned && a && b && sameKey(a, planned) && a[0] === b[0] && a[1] === b[1]) {
        if (!sameKey(src.key, planned)) return skip(`${p} changed since planned`);
        far.set(p, { key: b, sha256: src.sha256, nowMs: remote.nowMs });
      } else if (!far.has(p)) return skip(`${p} is read by the verify there`);
    }
    // The near side kept as it is (rememberIncremental: nothing changed there, every path from its cache) puts no rows in.
    const kept = !inc.local.changes.size && !inc.local.summary.racy?.length && check.every((p) => here.get(p)?.cached);
    const nearBy = kept ? { rows: new Map(), racy: [], ok: true } : rowsFor(check, kl, here);
    const { rows, racy } = rowsFor(check, kr, far);
    // rememberIncremental splices the far cache when its digest follows from the near side's (implied).
    const spliced = nearBy.ok && followsFrom({ d: inc.local, rows: nearBy.rows, racy: nearBy.racy }, inc.remote, check, rows, racy);
    const made = await prepareRewrite(HashCache.fileFor(cacheDir(pair), inc.remote.side.cacheRoot), inc.remote.side.cacheRoot, updateFor(inc.remote, rows, racy, false, spliced), true);
    mark('far cache prepared');
    return made;
  } catch (error) {
    // Only a speed-up: the verify then rewrites the cache as it always did.
    mark(`far cache not prepared: ${(error as Error).message}`);
    return undefined;
  }
}

/** What a small push prepares while the listings after its transfer run, and how to drop what the verify did not take. */
export interface Ahead {
  readonly near: Promise<Prepared | undefined>;
  readonly far?: Promise<PreparedRewrite | undefined>;
  /** Removes every temp file not put in place (after the verify, a stop, or a throw). */
  drop(): Promise<void>;
}

/**
 * prepareSoon (the near side), then prepareFar once the host's listing after is in (`after`; undefined:
 * not asked for, as for a plan with nothing to list again). LABSYNC_PREPARE_FAR=0: only the near side's
 * (the far side's after the verify, as before). The listings kept with the summaries are not written
 * ahead: tried (temp files renamed in), it saved ~3 ms of CPU and ~1 ms of wall at 50k files (11 runs'
 * medians), not worth two more temp files to keep right.
 */
export function prepareAhead(pair: ResolvedPair, planned: Planned, local: Side, after: Promise<Side | undefined> | undefined, written: Written | undefined, ctx: AttemptContext): Ahead {
  const near = prepareSoon(pair, planned, local, ctx);
  const far = after && process.env.LABSYNC_PREPARE_FAR !== '0' ? prepareFar(pair, planned, local, after, near, written) : undefined;
  return {
    near, ...(far ? { far } : {}),
    async drop() {
      await Promise.all([near, far].map(async (p) => (await p)?.discard()));
    },
  };
}
