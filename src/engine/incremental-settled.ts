// The commonest small verify of all: nothing changed on either side since both were proved equal, and
// only the proof's racy files were compared again (a `check` right after a push, whose copy was written
// within the racy second). When each of those files was read with the size and sha256 its side's
// summary already counted for it, both trees are the ones the summaries vouched for: their content
// and sums digests stand as they are. A side's cache then only takes the rows of files now past the
// racy window (put in without re-digesting the file), and a side whose files are all still racy is
// left untouched. rememberIncremental (incremental-remember.ts) handles every other case.
import type { ResolvedPair } from '../types.js';
import { rewriteCache, type RacyRow } from '../verify/cache-update.js';
import { spliceRows } from '../verify/cache-splice.js';
import type { Row } from '../verify/cache-file.js';
import { isRacy } from '../verify/cache-key.js';
import { HashCache } from '../verify/hash-cache.js';
import type { Key } from '../verify/listing-diff.js';
import { dropListing, saveListing } from '../verify/listing-file.js';
import { writeSummary, type TreeSummary } from '../verify/tree-summary.js';
import { work } from '../verify/work-count.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir } from './pair-tree.js';
import type { Delta, Incremental, Read } from './incremental.js';
import { sameKey } from './incremental-remember.js';
import { rememberSumsDigest } from './receipt.js';
import { saveRacy } from './sides.js';

/** What a side keeps after the compare: the rows to put in (files past the window now) and the files still racy. */
interface Settled { readonly d: Delta; readonly rows: Map<string, Row>; readonly racy: RacyRow[] }

/**
 * A side whose compared files all hold what its summary counted: from a cache row under the key listed
 * now, or a racy file of the proof read again under that key with the same size and sha256. undefined
 * when anything else changed (its listing, or a racy file's content).
 */
function settledSide(d: Delta, check: readonly string[], listed: ReadonlyMap<string, Key>, got: Read): Settled | undefined {
  if (d.changes.size) return undefined;
  const before = new Map((d.summary.racy ?? []).map((r) => [r.path, r]));
  const rows = new Map<string, Row>();
  const racy: RacyRow[] = [];
  for (const p of check) {
    const k = listed.get(p);
    const h = got.get(p);
    if (!k || !h || !sameKey(k, h.key)) return undefined;
    if (h.cached) continue;
    const was = before.get(p);
    if (!was || was.size !== k[0] || was.sha256 !== h.sha256) return undefined;
    if (isRacy(k[1], k[2], h.nowMs)) racy.push(was);
    else rows.set(p, [p, k[0], k[1], k[2], k[3], h.sha256, '', '', 0]);
  }
  // Every racy file of the proof was compared (incremental-verify.ts checks them all): none is left behind.
  return rows.size + racy.length === before.size ? { d, rows, racy } : undefined;
}

/** The side's cache with `rows` put in; its new summary, or undefined when the cache was not the one summed up. */
async function putRows(pair: ResolvedPair, d: Delta, rows: Map<string, Row>, racy: RacyRow[], warn: (message: string) => void): Promise<TreeSummary | undefined> {
  const was = d.summary;
  // The same tree: the summary's digests, its files now past the window out of `racy`.
  const kept: TreeSummary = { fingerprint: was.fingerprint, sha256: was.sha256, files: was.files, listing: d.side.rawDigest as string, ...(was.sums ? { sums: was.sums } : {}), ...(racy.length ? { racy } : {}) };
  const file = HashCache.fileFor(cacheDir(pair), d.side.cacheRoot);
  try {
    // The file still written with the summary: its rows put in place, nothing else read (cache-splice.ts).
    const spliced = was.cacheKey && (await spliceRows(file, d.side.cacheRoot, was.cacheKey, rows));
    if (spliced) return { ...kept, cacheKey: spliced };
    // Else streamed (cache-update.ts); a file not the one written with the summary must digest to it.
    const r = await rewriteCache(file, d.side.cacheRoot, { rows, racyBefore: was.racy ?? [], racyNow: racy, sums: false, ...(was.cacheKey ? { cacheKey: was.cacheKey } : {}), digests: false });
    const same = r.spliced || (r.before === was.sha256 && r.content === was.sha256);
    if (!same || r.beforeFiles !== was.files || r.files !== d.files) return undefined;
    return { ...kept, cacheKey: r.cacheKey };
  } catch (error) {
    warn(`could not update the hash cache of ${d.side.path} (${(error as Error).message}); the next run compares every file`);
    return undefined;
  }
}

/**
 * Brings both sides up to date when nothing but the proof's racy files was compared and each still
 * holds what the summaries counted; false: not that case, nothing written (the caller remembers the
 * general way). A cache that turns out not to be the one its summary was written with loses the summary
 * (the next run compares the whole listings), as rememberIncremental does.
 */
export async function rememberSettled(pair: ResolvedPair, inc: Incremental, check: readonly string[], read: readonly [Map<string, Key>, Read][], ctx: AttemptContext): Promise<boolean> {
  const sides = [inc.local, inc.remote].map((d, at) => settledSide(d, check, ...(read[at] as [Map<string, Key>, Read])));
  if (sides.some((s) => s === undefined)) return false;
  const dir = cacheDir(pair);
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  for (const { d, rows, racy } of sides as Settled[]) {
    const was = d.summary;
    const sameListing = was.listing === d.side.rawDigest;
    if (!rows.size && sameListing) continue; // still racy, the same listing: cache, summary and .racy stand
    let summary: TreeSummary | undefined = { ...was, listing: d.side.rawDigest as string };
    if (rows.size) {
      work.cacheRows += rows.size;
      summary = await putRows(pair, d, rows, racy, warn);
      // The host's files still racy ride its next listing's call (sides.ts readRacy).
      d.side.racy.clear();
      for (const x of racy) d.side.racy.add(x.path);
      await saveRacy(pair, d.side, warn);
    }
    await writeSummary(dir, d.side.cacheRoot, summary, warn);
    const raw = d.side.raw?.();
    if (!summary) dropListing(dir, d.side.cacheRoot);
    else if (raw && !sameListing) await saveListing(dir, d.side.cacheRoot, raw, warn);
  }
  if (inc.local.summary.sums) rememberSumsDigest(pair, inc.local.summary.sums, inc.local.files);
  return true;
}
