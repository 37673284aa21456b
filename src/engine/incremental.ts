// A run after a small change costs what the change costs (issue 12, item 6). Two sides last proved
// equal (summaries with equal content digests, tree-summary.ts) and each listed now with few records
// other than the listing it was proved with (listing-diff.ts): every file whose record is byte for byte
// as then still holds what both sides held, so only the changed paths are planned (by their entries
// on both sides) and compared (incremental-verify.ts: read on the side where they changed, the other
// side's hash from its cache row), and each side's cache and summary are brought up to date by streaming
// the cache once (cache-update.ts). Neither listing is parsed and no hash cache is loaded whole.
// Anything not as remembered answers undefined, and the whole listings are planned as before.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PairPlan } from '../plan/types.js';
import { computePlan, listingOf } from '../plan/compute.js';
import { underSentFile } from '../plan/changes.js';
import type { ResolvedPair } from '../types.js';
import type { Entry } from '../verify/compare.js';
import { excludedPath } from '../verify/find-list.js';
import { diffListings, diffRaw, keysIn, keysInParts, type Change, type Key } from '../verify/listing-diff.js';
import { rawDigestOf, readListing } from '../verify/listing-file.js';
import { readSummary, type TreeSummary } from '../verify/tree-summary.js';
import { sortBytewise } from '../verify/walk.js';
import { work } from '../verify/work-count.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';

/**
 * The most records that may differ from the remembered listings before the whole listings are
 * planned instead: a changed path costs a lookup in the other side's raw listing and a file hashed on
 * each side, the whole plan ~50 µs a listed file (1M files: 54 s of CPU); a twentieth of the tree,
 * at most 20,000 paths, keeps the changed paths' work well under that.
 */
export const limitFor = (files: number): number => Math.max(256, Math.min(20_000, Math.floor(files / 20)));

export interface Delta {
  readonly side: Side;
  readonly summary: TreeSummary;
  readonly changes: ReadonlyMap<string, Change>;
  /** Files listed now. */
  readonly files: number;
}

export interface Incremental {
  readonly local: Delta;
  readonly remote: Delta;
  /** Paths whose record changed on either side, in byte order. */
  readonly paths: readonly string[];
}

/** The reference's digest under these excludes, taken once per buffer (a side listed twice in a run shares it). */
const digests = new WeakMap<Buffer, { excludes: string; digest: string }>();

/** Whether `ref` is the listing digested as `digest` (the one the tree was proved with). */
function isListing(ref: Buffer, excludes: readonly string[], digest: string): boolean {
  const key = JSON.stringify(excludes);
  let known = digests.get(ref);
  if (known?.excludes !== key) digests.set(ref, (known = { excludes: key, digest: rawDigestOf(excludes, ref) }));
  return known.digest === digest;
}

/**
 * A side's changes since its proof. A local side's listing was kept over the remembered listing as it
 * came (listing-match.ts): its differing records are already apart, nothing else is read. Otherwise the
 * remembered listing is read and compared with the raw one; `earlier`: this side's changes as found
 * before the transfer, whose listing the one after it is compared with (in memory), the two composed.
 */
function deltaOf(pair: ResolvedPair, side: Side, summary: TreeSummary, limit: number, earlier?: Delta): Delta | undefined {
  if (!side.rawDigest || !summary.listing) return undefined;
  const excludes = treeExcludes(pair);
  if (earlier && earlier.summary.listing === summary.listing && earlier.side.rawDigest === side.rawDigest) return { ...earlier, side };
  let changes: Map<string, Change> | undefined;
  const kept = side.rawListing?.();
  if (summary.listing === side.rawDigest) changes = new Map();
  else if (kept?.unlined) return undefined; // mostly new records, or another order: the whole listings
  else if (kept?.reference) {
    if (!isListing(kept.reference, excludes, summary.listing)) return undefined;
    changes = diffRaw(kept, limit, excludedPath(excludes));
  } else {
    const now = side.raw?.();
    if (!now) return undefined;
    const then = earlier?.side.raw?.();
    if (earlier && then && earlier.summary.listing === summary.listing) {
      const since = diffListings(then, now, limit, excludedPath(excludes));
      if (!since) return undefined;
      changes = new Map(earlier.changes);
      for (const [p, c] of since) {
        const first = earlier.changes.get(p);
        changes.set(p, { before: first ? first.before : c.before, now: c.now });
      }
    } else {
      const before = readListing(cacheDir(pair), side.cacheRoot, summary.listing, excludes);
      if (!before) return undefined;
      changes = diffListings(before, now, limit, excludedPath(excludes));
    }
  }
  if (!changes) return undefined;
  let files = summary.files;
  for (const c of changes.values()) files += (c.now ? 1 : 0) - (c.before ? 1 : 0);
  return { side, summary, changes, files };
}

/** The two sides' changes since they were last proved equal; undefined: plan the whole listings. `earlier`: as found before a transfer. */
export function incrementalOf(pair: ResolvedPair, local: Side, remote: Side, earlier?: Incremental): Incremental | undefined {
  if (local.missing || remote.missing || pair.verify !== 'checksum') return undefined;
  const a = readSummary(cacheDir(pair), local.cacheRoot);
  const b = readSummary(cacheDir(pair), remote.cacheRoot);
  if (!a?.listing || !b?.listing || a.sha256 !== b.sha256 || a.files !== b.files) return undefined;
  const limit = limitFor(a.files);
  const l = deltaOf(pair, local, a, limit, earlier?.local);
  const r = l && deltaOf(pair, remote, b, limit, earlier?.remote);
  if (!l || !r) return undefined;
  const paths = sortBytewise([...new Set([...l.changes.keys(), ...r.changes.keys()])]);
  if (paths.length > limit) return undefined;
  // Both sides were proved to hold the same paths: a path new on one side and not on the other is not that proof.
  for (const p of paths) {
    const x = l.changes.get(p);
    const y = r.changes.get(p);
    if (x && y && (x.before === null) !== (y.before === null)) return undefined;
  }
  return { local: l, remote: r, paths };
}

/** Whether `p` was in both trees when they were proved equal. */
const wasListed = (inc: Incremental, p: string): boolean => {
  const c = inc.local.changes.get(p) ?? inc.remote.changes.get(p);
  return c ? c.before !== null : true; // not flagged on either side: a racy file of the proof, listed then
};

/** The keys `paths` have in this side's listing now (a path not listed there is left out); undefined: one not found. */
export function keysNow(d: Delta, inc: Incremental, paths: readonly string[]): Map<string, Key> | undefined {
  const out = new Map<string, Key>();
  const look: string[] = [];
  for (const p of paths) {
    const c = d.changes.get(p);
    if (c) {
      if (c.now) out.set(p, c.now);
    } else if (wasListed(inc, p)) look.push(p);
  }
  if (!look.length) return out;
  const kept = d.side.rawListing?.();
  const found = kept ? keysInParts(kept.parts, look) : keysIn(d.side.raw?.() as Buffer, look);
  if (found.size !== look.length) return undefined;
  for (const [p, k] of found) out.set(p, k);
  return out;
}

/** The plan over the changed paths only, with the source's keys of those paths; undefined where that cannot stand in for the whole plan. */
export function incrementalPlan(pair: ResolvedPair, direction: 'push' | 'pull', inc: Incremental): Planned | undefined {
  const [s, d] = direction === 'push' ? [inc.local, inc.remote] : [inc.remote, inc.local];
  const ks = keysNow(s, inc, inc.paths);
  const kd = keysNow(d, inc, inc.paths);
  if (!ks || !kd) return undefined;
  const entry = ([path, k]: [string, Key]): Entry => ({ path, size: k[0], mtimeMs: k[1] });
  const src = [...ks].map(entry);
  const dst = [...kd].map(entry);
  work.entries += src.length + dst.length;
  const plan = computePlan(listingOf(src), listingOf(dst), { mirror: pair.delete, kinds: true });
  // A deleted folder goes as a whole, which needs the source's folders: known here only for a local source.
  if (plan.delete.length && s.side.where !== 'local') return undefined;
  return { plan: { ...plan, sourceFiles: s.files, destFiles: d.files, sourceDigest: s.side.rawDigest as string, destDigest: d.side.rawDigest as string }, sourceKeys: ks, inc };
}

/** An incremental plan, the source's keys of its paths (what a transfer wrote is judged by them) and the changes it was made from. */
export interface Planned { readonly plan: PairPlan; readonly sourceKeys: ReadonlyMap<string, Key>; readonly inc: Incremental }

/** What to delete for a plan made here: a file, or its topmost folder the (local) source does not have. */
export function deletionTargetsAt(plan: PairPlan, sourceRoot: string): string[] {
  const out = new Set<string>();
  // Folders the plan sends files into: a file at the destination by such a name the transfer replaced.
  const into = new Set<string>();
  for (const { path } of [...plan.send, ...plan.replace]) for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) into.add(path.slice(0, at));
  const replaced = underSentFile(plan);
  for (const { path } of plan.delete) {
    if (into.has(path) || replaced(path)) continue;
    let target = path;
    for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) {
      if (!existsSync(join(sourceRoot, path.slice(0, at)))) {
        target = path.slice(0, at);
        break;
      }
    }
    out.add(target);
  }
  return [...out].sort();
}

/**
 * A side's files hashed in this run: path → key when read, sha256, and the clock the racy window is
 * judged by; `cached`: not read, the side's cache row under that key (incremental-verify.ts fromCache).
 */
export type Read = Map<string, { key: Key; sha256: string; nowMs: number; cached?: true }>;
