// Verify after a small change (incremental.ts), for a push's verify and for `check` alike: the paths
// whose record changed on either side since both were proved equal (and the proof's racy files) are
// compared; every other file is equal by the proof. Each side reads only what changed there (or was
// too fresh to vouch for by its key): where a path's record is as it was at the proof, its hash is the
// row its side's cache holds under that very key (cache-lookup.ts), so a one-file change at the
// destination does not read the source's copy, and one here does not read the host's.
import type { Direction, ResolvedPair } from '../types.js';
import { lookupRows } from '../verify/cache-lookup.js';
import { HashCache } from '../verify/hash-cache.js';
import type { Key } from '../verify/listing-diff.js';
import { sortBytewise } from '../verify/walk.js';
import { work } from '../verify/work-count.js';
import type { AttemptContext } from './attempt.js';
import type { Written } from './compare-listed.js';
import { driftOf } from './compare-pair.js';
import { cacheDir } from './pair-tree.js';
import type { VerifyResult } from './events.js';
import { incrementalOf, keysNow, type Delta, type Incremental, type Read } from './incremental.js';
import type { Ahead } from './incremental-prepare-far.js';
import { rememberIncremental, sameKey } from './incremental-remember.js';
import { rememberSettled } from './incremental-settled.js';
import type { Body } from './outcome.js';
import { hashOn, type Side } from './sides.js';
import { mark } from '../util/trace.js';

async function readOn(side: Side, pair: ResolvedPair, paths: readonly string[], ctx: AttemptContext): Promise<{ read: Read; bytes: number } | { unsupported: string } | { stop: Body }> {
  if (!paths.length) return { read: new Map(), bytes: 0 };
  const read: Read = new Map();
  let bytes = 0;
  const ask: string[] = [];
  for (const p of paths) {
    // Hashed in the listing's own call (the host's racy files of the last run): not read again.
    const f = side.fresh?.get(p);
    if (f) {
      read.set(p, { key: f.key, sha256: f.sha256, nowMs: side.nowMs });
      bytes += f.key[0];
    } else ask.push(p);
  }
  const got = await hashOn(side, pair, ask, ctx, false);
  if (!('files' in got)) return got;
  for (const [p, key, sha256] of got.files.entries()) read.set(p, { key, sha256, nowMs: got.nowMs });
  return { read, bytes: bytes + got.bytes };
}

/**
 * The hashes of `paths` this side need not read: its record is the one it was proved with (not
 * flagged), it was not racy then, and its cache holds a row under exactly the key listed now (a row
 * under any other key is never trusted). A path hashed in the listing's own call is read, not looked up.
 * `count`: the rows count as this run's work (not for a rewrite prepared ahead, incremental-prepare.ts).
 */
export function fromCache(pair: ResolvedPair, d: Delta, keys: ReadonlyMap<string, Key>, paths: readonly string[], count = true): Read {
  const racy = new Set((d.summary.racy ?? []).map((r) => r.path));
  const ask = paths.filter((p) => !d.changes.has(p) && !racy.has(p) && !d.side.fresh?.has(p));
  const out: Read = new Map();
  if (!ask.length) return out;
  for (const [p, row] of lookupRows(HashCache.fileFor(cacheDir(pair), d.side.cacheRoot), d.side.cacheRoot, ask)) {
    const k = keys.get(p);
    if (!k || !sameKey(k, [row[1], row[2], row[3], row[4]])) continue;
    if (count) work.cacheRows++;
    out.set(p, { key: k, sha256: row[5], nowMs: d.side.nowMs, cached: true });
  }
  return out;
}

/**
 * Verify after an incremental plan, or `check` after a small change: undefined where the whole
 * listings must be compared (not as remembered, too many changes, a host that cannot hash). Judged as
 * the whole-listing comparison judges (compare-listed.ts): a path on one side only is missing or extra,
 * two sizes are a change, and only files on both sides with one size are hashed.
 */
export async function verifyIncremental(pair: ResolvedPair, local: Side, remote: Side, ctx: AttemptContext, written?: Written, earlier?: Incremental, made?: Ahead): Promise<VerifyResult | { stop: Body } | undefined> {
  const inc = incrementalOf(pair, local, remote, earlier);
  mark('incremental delta');
  if (!inc) return undefined;
  const racy = [...(inc.local.summary.racy ?? []), ...(inc.remote.summary.racy ?? [])].map((r) => r.path);
  const check = sortBytewise([...new Set([...inc.paths, ...racy])]);
  const kl = keysNow(inc.local, inc, check);
  const kr = keysNow(inc.remote, inc, check);
  if (!kl || !kr) return undefined;
  const both = check.filter((p) => {
    const [a, b] = [kl.get(p), kr.get(p)];
    return a !== undefined && b !== undefined && a[0] === b[0];
  });
  ctx.emit({ kind: 'pair_step', pair: pair.name, step: `verifying (checksum, ${check.length} changed file${check.length === 1 ? '' : 's'})` });
  const fromLocal = written?.from !== 'remote';
  const [ks, kd] = fromLocal ? [kl, kr] : [kr, kl];
  // What the transfer wrote and checked against the sender's whole-file checksum (compare-listed.ts
  // Written): while the source keeps the key it was planned with and the copy the size and mtime rsync
  // gave it, the copy holds the source's bytes, so it is not read back.
  const derived = new Set<string>();
  for (const [p, planned] of written?.keys ?? []) {
    const a = ks.get(p);
    const b = kd.get(p);
    if (a && b && sameKey(a, planned) && a[0] === b[0] && a[1] === b[1]) derived.add(p);
  }
  const [cl, cr] = [fromCache(pair, inc.local, kl, both), fromCache(pair, inc.remote, kr, both)];
  const need = (cached: Read, dst: boolean): string[] => both.filter((p) => !cached.has(p) && !(dst && derived.has(p)));
  // Read here for the cache rewrite made ahead (incremental-prepare.ts): not read again while the file
  // has the key it was read under; those bytes are this run's reads all the same.
  const pre = await made?.near;
  const ahead: Read = new Map([...(pre?.ahead ?? [])].filter(([p, r]) => {
    const k = kl.get(p);
    return k !== undefined && sameKey(k, r.key);
  }));
  const [here, far] = await Promise.all([readOn(local, pair, need(cl, !fromLocal).filter((p) => !ahead.has(p)), ctx), readOn(remote, pair, need(cr, fromLocal), ctx)]);
  if ('stop' in here) return here;
  if ('stop' in far) return far;
  if ('unsupported' in here || 'unsupported' in far) return undefined;
  for (const [p, r] of ahead) here.read.set(p, r);
  here.bytes += pre?.bytesRead ?? 0;
  for (const [p, r] of cl) here.read.set(p, r);
  for (const [p, r] of cr) far.read.set(p, r);
  const [src, dst] = fromLocal ? [here, far] : [far, here];
  const dstSide = fromLocal ? remote : local;
  // The source read under another key than planned (changed since): the copy is read after all.
  const late = [...derived].filter((p) => {
    const r = src.read.get(p);
    if (r && sameKey(r.key, written?.keys.get(p) as Key)) {
      dst.read.set(p, { key: kd.get(p) as Key, sha256: r.sha256, nowMs: dstSide.nowMs });
      return false;
    }
    return true;
  });
  if (late.length) {
    const again = await readOn(dstSide, pair, late, ctx);
    if ('stop' in again) return again;
    if ('unsupported' in again) return undefined;
    for (const [p, r] of again.read) dst.read.set(p, r);
    dst.bytes += again.bytes;
  }
  mark('incremental read');
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  for (const p of check) {
    const [a, b] = [kl.get(p), kr.get(p)];
    const x = here.read.get(p)?.sha256;
    const y = far.read.get(p)?.sha256;
    if (a && !b) missing.push(p);
    else if (!a && b) extra.push(p);
    else if (!a || !b) continue; // gone from both since proved
    else if (a[0] !== b[0]) changed.push(p);
    else if (x === undefined && y === undefined) continue; // gone from both since listed
    else if (y === undefined) missing.push(p);
    else if (x !== y) changed.push(p);
  }
  const drift = missing.length + extra.length + changed.length > 0;
  if (!drift) {
    const read: [Map<string, Key>, Read][] = [[kl, here.read], [kr, far.read]];
    // Only the proof's racy files compared, holding what was counted: the summaries stand (incremental-settled.ts).
    if (!(await rememberSettled(pair, inc, check, read, ctx))) await rememberIncremental(pair, inc, check, read, ctx, { near: pre, far: await made?.far });
    mark('incremental remembered');
  }
  const provenByTransfer = derived.size - late.length;
  return {
    checked: inc.local.files, missing: missing.sort(), extra: extra.sort(), changed: changed.sort(), bytesHashed: { local: here.bytes, remote: far.bytes }, status: drift ? 'drift' : 'in_sync', mode: 'checksum',
    proof: provenByTransfer > 0 ? 'rsync-transfer-checksum' : 'cached', provenByTransfer,
  };
}

/**
 * The result judged as the pair's direction and mode judge drift (compare-pair.ts driftOf): a push
 * without delete keeps files only the destination has, a pull files only the local side has.
 */
export function judgedFor(v: VerifyResult | { stop: Body } | undefined, pair: ResolvedPair, direction: Direction): VerifyResult | { stop: Body } | undefined {
  if (!v || 'stop' in v || v.status !== 'drift') return v;
  const d = driftOf(v, pair, direction);
  return d.missing.length + d.extra.length + d.changed.length ? v : { ...v, status: 'in_sync' };
}
