// After an incremental verify found the changed paths equal (incremental.ts): each side's hash cache
// streamed once with the changed rows put in place (cache-update.ts), and its summary and remembered
// listing replaced, only when the stream shows the cache is the tree the old summary vouched for.
import type { ResolvedPair } from '../types.js';
import { rewriteCache, type CacheUpdate, type PreparedRewrite, type RacyRow, type Rewritten } from '../verify/cache-update.js';
import type { Row } from '../verify/cache-file.js';
import { isRacy } from '../verify/cache-key.js';
import { HashCache } from '../verify/hash-cache.js';
import type { Key } from '../verify/listing-diff.js';
import { dropListing, saveListing } from '../verify/listing-file.js';
import { writeSummary } from '../verify/tree-summary.js';
import { work } from '../verify/work-count.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir } from './pair-tree.js';
import type { Delta, Incremental, Read } from './incremental.js';
import { rememberSumsDigest } from './receipt.js';
import { saveRacy } from './sides.js';
import { mark } from '../util/trace.js';

/** What was made while the listings after the transfer ran, each taken only if it is exactly what is asked for. */
export interface MadeAhead {
  readonly near?: PreparedRewrite | undefined;
  readonly far?: PreparedRewrite | undefined;
}

export const sameKey = (a: Key, b: Key): boolean => a.every((v, k) => v === b[k]);

/**
 * Each side's cache and summary brought up to date after the changed paths were proved equal. A
 * summary is written only when the cache streamed is the tree its old summary vouched for, every
 * changed file was read under the key it is listed with, and both sides now sum up alike.
 */
export async function rememberIncremental(pair: ResolvedPair, inc: Incremental, check: readonly string[], read: [Map<string, Key>, Read][], ctx: AttemptContext, prepared?: MadeAhead): Promise<void> {
  const dir = cacheDir(pair);
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  const done: { d: Delta; r?: Rewritten; racy: RacyRow[]; ok: boolean; rows: Map<string, Row | null>; kept?: true }[] = [];
  for (const [at, d] of [inc.local, inc.remote].entries()) {
    const [listed, got] = read[at] as [Map<string, Key>, Read];
    // Nothing changed on this side since its proof and every path compared came from its cache rows:
    // its cache, summary and listing stand as they are (streaming the cache would rewrite the same file).
    if (!d.changes.size && !d.summary.racy?.length && check.every((p) => got.get(p)?.cached)) {
      const r = { content: d.summary.sha256, files: d.summary.files, beforeFiles: d.summary.files, lines: 0, cacheKey: d.summary.cacheKey ?? [], ...(d.summary.sums ? { sums: d.summary.sums } : {}) };
      // No rows to put in: the far side's digest is then streamed (implied() finds nothing to vouch with).
      done.push({ d, r, racy: [], ok: true, rows: new Map(), kept: true });
      continue;
    }
    const byRead = rowsFor(check, listed, got);
    const { rows, racy } = byRead;
    work.cacheRows += byRead.made;
    let ok = byRead.ok;
    let r: Rewritten | undefined;
    // The far side's content digest follows from the near side's (implied below): its rows are only put in.
    const near = at === 1 ? done[0] : undefined;
    const content = near && implied(near, d, check, rows, racy);
    try {
      const file = HashCache.fileFor(dir, d.side.cacheRoot);
      const update = updateFor(d, rows, racy, d === inc.local, content !== undefined);
      // Made while the listings after the transfer ran (incremental-prepare.ts, incremental-prepare-far.ts):
      // put in place when it was made from exactly this.
      const ahead = at === 0 ? prepared?.near : prepared?.far;
      const ready = ahead ? await fromPrepared(ahead, file, update, at === 0 ? 'near' : 'far') : undefined;
      r = ready ?? (await rewriteCache(file, d.side.cacheRoot, update));
      if (r.spliced) r = content ? { ...r, content } : undefined;
    } catch (error) {
      warn(`could not update the hash cache of ${d.side.path} (${(error as Error).message}); the next run compares every file`);
    }
    // The file is the one summed up: written with the summary (its stat key), or holding its digest.
    ok &&= r !== undefined && r.content !== undefined && (r.before === undefined || r.before === d.summary.sha256) && r.beforeFiles === d.summary.files && r.files === d.files;
    done.push({ d, ...(r ? { r } : {}), racy, ok, rows });
    // The host's racy files ride its next listing's call (sides.ts readRacy).
    d.side.racy.clear();
    for (const x of racy) d.side.racy.add(x.path);
    await saveRacy(pair, d.side, warn);
    mark(`remembered side ${at}`);
  }
  const [l, r] = done as [(typeof done)[number], (typeof done)[number]];
  const agree = l.ok && r.ok && l.r?.content === r.r?.content;
  for (const s of done) {
    if (s.kept && agree) continue;
    const summary = agree && s.r?.content ? { fingerprint: '', sha256: s.r.content, files: s.r.files, listing: s.d.side.rawDigest as string, ...(s === l && s.r.sums ? { sums: s.r.sums } : {}), ...(s.racy.length ? { racy: s.racy } : {}), cacheKey: s.r.cacheKey } : undefined;
    await writeSummary(dir, s.d.side.cacheRoot, summary, warn);
    // A local side's listing as kept over the remembered one (listing-match.ts): written in parts, not joined.
    const raw = s.d.side.rawListing?.()?.parts ?? s.d.side.raw?.();
    // A listing byte for byte the one kept with the old summary is not written again (a damaged copy
    // on disk would fail its digest when next read, and cost the whole comparison, never a wrong answer).
    if (summary && raw) {
      if (s.d.summary.listing !== s.d.side.rawDigest) await saveListing(dir, s.d.side.cacheRoot, raw, warn);
    }
    else dropListing(dir, s.d.side.cacheRoot);
    mark(`summary and listing written, side ${s === l ? 0 : 1}`);
  }
  mark('summaries and listings written');
  if (agree && l.r?.sums) rememberSumsDigest(pair, l.r.sums, l.r.files);
}

/**
 * What the checked paths put into a side's cache: each read under the key it is listed with gets its
 * row, or (within the racy window of its read) a racy entry and no row; `ok`: no listed path was read
 * under another key (or not at all); `made`: the rows and entries made.
 */
export function rowsFor(check: readonly string[], listed: ReadonlyMap<string, Key>, got: Read): { rows: Map<string, Row | null>; racy: RacyRow[]; ok: boolean; made: number } {
  const rows = new Map<string, Row | null>();
  const racy: RacyRow[] = [];
  let ok = true;
  let made = 0;
  for (const p of check) {
    const k = listed.get(p);
    const h = got.get(p);
    if (!k || !h || !sameKey(k, h.key)) {
      ok &&= !k; // listed, but changed since (or gone): this run cannot sum the side up
      rows.set(p, null);
      continue;
    }
    made++;
    if (isRacy(k[1], k[2], h.nowMs)) {
      rows.set(p, null);
      racy.push({ path: p, size: k[0], sha256: h.sha256 });
    } else rows.set(p, [p, k[0], k[1], k[2], k[3], h.sha256, '', '', 0]);
  }
  return { rows, racy, ok, made };
}

/** The cache update of a side after the verify; `spliced`: its content digest is known otherwise (implied). */
export function updateFor(d: Delta, rows: ReadonlyMap<string, Row | null>, racy: readonly RacyRow[], sums: boolean, spliced: boolean): CacheUpdate {
  return { rows, racyBefore: d.summary.racy ?? [], racyNow: racy, sums, ...(d.summary.cacheKey ? { cacheKey: d.summary.cacheKey } : {}), ...(spliced ? { digests: false as const } : {}) };
}

/** The prepared rewrite put in place when it was made of this very update for this file (and the file is as it was read); else dropped. */
async function fromPrepared(prepared: PreparedRewrite, file: string, update: CacheUpdate, side: 'near' | 'far'): Promise<Rewritten | undefined> {
  if (prepared.file !== file || !sameUpdate(prepared.update, update)) {
    mark(`${side} cache prepared for another update`);
    await prepared.discard();
    return undefined;
  }
  const r = await prepared.commit();
  mark(r ? `${side} cache put in place as prepared` : `${side} cache changed since prepared`);
  return r;
}

/** What a path sums up as on a side after the verify: its row's or its racy entry's size and sha256; '' when absent. */
function entryOf(p: string, rows: ReadonlyMap<string, Row | null>, racy: readonly RacyRow[]): string {
  const row = rows.get(p);
  if (row) return `${row[1]}\0${row[5]}`;
  const r = racy.find((x) => x.path === p);
  return r ? `${r.size}\0${r.sha256}` : '';
}

/**
 * The far side's new content digest, known without streaming its cache: the near side was summed up
 * from its own cache (ok), both old summaries vouched for the same content, every file either summary
 * held as racy is among the checked paths, and every checked path now sums up alike on both sides.
 * Then both trees are the old one with the same entries put in for the checked paths, and the far
 * side's cache (still the file its summary was written with, which rewriteCache checks by its stat key)
 * only needs those rows. undefined: stream and digest it as the near side was.
 */
function implied(near: { d: Delta; r?: Rewritten; ok: boolean; racy: readonly RacyRow[]; rows: ReadonlyMap<string, Row | null> }, far: Delta, check: readonly string[], rows: ReadonlyMap<string, Row | null>, racy: readonly RacyRow[]): string | undefined {
  const content = near.r?.content;
  return near.ok && content && followsFrom(near, far, check, rows, racy) ? content : undefined;
}

/** implied's rule on the two sides' entries (the near side's digest aside): the far side's digest follows from the near side's. */
export function followsFrom(near: { d: Delta; racy: readonly RacyRow[]; rows: ReadonlyMap<string, Row | null> }, far: Delta, check: readonly string[], rows: ReadonlyMap<string, Row | null>, racy: readonly RacyRow[]): boolean {
  if (!far.summary.cacheKey || near.d.summary.sha256 !== far.summary.sha256 || near.d.summary.files !== far.summary.files) return false;
  const checked = new Set(check);
  if ([...(near.d.summary.racy ?? []), ...(far.summary.racy ?? [])].some((x) => !checked.has(x.path))) return false;
  for (const p of check) if (entryOf(p, near.rows, near.racy) !== entryOf(p, rows, racy)) return false;
  return true;
}

/** Whether two updates are the same (the rows, the racy entries, and how the file is to be read and digested). */
export function sameUpdate(a: CacheUpdate, b: CacheUpdate): boolean {
  const sameRacy = (x: readonly RacyRow[], y: readonly RacyRow[]): boolean => x.length === y.length && x.every((r, i) => r.path === y[i]?.path && r.size === y[i]?.size && r.sha256 === y[i]?.sha256);
  const sameList = (x?: readonly unknown[], y?: readonly unknown[]): boolean => x === y || (x !== undefined && y !== undefined && x.length === y.length && x.every((v, i) => Object.is(v, y[i])));
  if (a.sums !== b.sums || a.digests !== b.digests || !sameList(a.cacheKey, b.cacheKey) || !sameRacy(a.racyBefore, b.racyBefore) || !sameRacy(a.racyNow, b.racyNow) || a.rows.size !== b.rows.size) return false;
  for (const [p, row] of a.rows) {
    if (!b.rows.has(p)) return false;
    const other = b.rows.get(p);
    if (row === null || other === null || other === undefined ? row !== other : !sameList(row, other)) return false;
  }
  return true;
}
