// The host's listing after a push over its held session (ssh-held.ts), patched instead of listed whole
// (issue 12: a change costs what the change costs), as listing-after.ts patches a local destination.
// The patch (verify/listing-patch.ts) asks the tree as it is now for a few records, folder kinds,
// entry counts and folder listings; a host cannot be asked back and forth, so those questions are
// found before the transfer, by running the patch on the plan's prediction (what it sends is a file,
// what it deletes is gone, a folder with records is a folder) and noting what it asks. They go to the
// host ahead of the transfer's line (adapters/rsync/held-after.ts), the host answers them after
// rsync --server ended with 0, and the patch runs again on the answers. A question the answers do not
// hold (the host's tree is not what the plan made of it), or answers not of their shape, and the host
// is listed whole by a listing of its own: never a wrong listing. The host is the destination; the
// pair's remote lock keeps other labsync runs out of it (the same reasoning as listing-after.ts); the
// source (local) is patched from what changed there since its listing began (listing-after.ts).
// Not asked (the whole listing, as before): --full, a host listed missing before, a listing before
// holding no raw records, LABSYNC_AFTER=whole, or a patch that would list the whole tree anyway.
import { createHash } from 'node:crypto';
import type { AfterAnswers, AfterQuestions, RemoteListing } from '../adapters/types.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { treeExcludes } from './pair-tree.js';
import { countLinks, parseFindListing } from '../verify/find-list.js';
import { parentOf, patchedParts, regionOf, SORTED_PAST, type PatchSource } from '../verify/listing-patch.js';
import { pathStart } from '../verify/listing-records.js';
import type { RawListing } from '../verify/listing-match.js';
import type { Side } from './sides.js';
import type { Held } from './ssh-held.js';
import { touchedBy } from './listing-after.js';

/** The questions sent before the transfer, and how the host's answers become its listing after. */
export interface AfterAsk {
  readonly q: AfterQuestions;
  /** undefined: the answers do not hold what the patch asks (the host is then listed whole). */
  patch(answers: AfterAnswers): Promise<RemoteListing | undefined>;
}

/** Thrown by the answers' source at a question the host was not asked. */
class Unasked extends Error {}


/**
 * Entries of `dir` as its records in the listing show them (its files, and its folders holding any): as
 * many as find would count there at least. The prediction of a crowded folder (listed again, not patched).
 */
export function entriesAtLeast(parts: readonly Buffer[], dir: string): number {
  const region = dir === '' ? { from: [0, 0], to: [parts.length - 1, (parts[parts.length - 1] ?? Buffer.alloc(0)).length] } : regionOf(parts, dir);
  if (!region || region === 'whole') return 0;
  const skip = dir === '' ? 0 : Buffer.byteLength(dir) + 1;
  const folders = new Set<string>();
  let files = 0;
  for (let k = region.from[0]; k <= region.to[0]; k++) {
    const buf = parts[k] as Buffer;
    const end = k === region.to[0] ? region.to[1] : buf.length;
    for (let at = k === region.from[0] ? region.from[1] : 0; at < end; ) {
      const e = buf.indexOf(0, at);
      if (e < 0 || e >= end) break;
      const p = buf[at] === 108 ? -1 : pathStart(buf, at, e);
      if (p >= 0) {
        const slash = buf.indexOf(47, p + skip);
        if (slash < 0 || slash >= e) files++;
        else folders.add(buf.toString('latin1', p + skip, slash));
      }
      at = e + 1;
    }
  }
  return files + folders.size;
}

/** The host's listing after the plan's transfer as the patch would build it, and what it asked on the way. */
async function predicted(before: RawListing, plan: Pick<PairPlan, 'send' | 'replace' | 'delete'>): Promise<AfterQuestions | undefined> {
  const gone = new Set(plan.delete.map((f) => f.path));
  const paths = new Set<string>();
  const counts = new Set<string>();
  const lists: string[] = [];
  const src: PatchSource = {
    recordNow: (p) => (paths.add(p), gone.has(p) ? 'gone' : Buffer.alloc(0)),
    crowded: (dir) => (counts.add(dir), entriesAtLeast(before.parts, dir) > SORTED_PAST),
    kindOf: (dir) => {
      // Every folder above it too: one the host says is gone moves the patch up to its parent.
      for (let d = dir; d; d = parentOf(d)) paths.add(d);
      return 'folder';
    },
    listUnder: (dirs) => {
      lists.push(...dirs);
      return Promise.resolve(dirs.map(() => Buffer.alloc(0)));
    },
  };
  const got = await patchedParts(before, touchedBy(plan), src);
  return got === undefined ? undefined : { paths: [...paths], counts: [...counts], lists };
}

/** The source that answers from what the host printed; a question not asked of it throws Unasked. */
function answered(q: AfterQuestions, a: AfterAnswers): PatchSource {
  const asked = new Set(q.paths);
  const counted = new Set(q.counts);
  const kind = (p: string): ReturnType<AfterAnswers['kinds']['get']> => {
    if (!asked.has(p)) throw new Unasked(p);
    return a.kinds.get(p);
  };
  return {
    recordNow: (p) => {
      const k = kind(p);
      // After rsync wrote and deleted there, a path find cannot stat is gone (its folder was searchable).
      return k === undefined ? 'gone' : Buffer.isBuffer(k) ? k : undefined;
    },
    crowded: (dir) => {
      if (!counted.has(dir)) throw new Unasked(dir);
      return (a.counts.get(dir) ?? 0) > SORTED_PAST;
    },
    kindOf: (dir) => {
      const k = kind(dir);
      return k === undefined ? 'gone' : k === 'folder' ? 'folder' : 'other';
    },
    listUnder: (dirs) => Promise.resolve(dirs.map((d) => {
      const got = a.lists.get(d);
      if (!got) throw new Unasked(d);
      return got;
    })),
  };
}

/** A host's listing from find's raw records, digested as parseRemoteListing digests the whole one. */
export function listingOfRaw(raw: Buffer, excludes: readonly string[], nowMs: number): RemoteListing {
  const rawDigest = createHash('sha256').update(JSON.stringify(excludes)).update('\0').update(raw).digest('hex');
  let parsed: ReturnType<typeof parseFindListing> | undefined;
  const listing = (): ReturnType<typeof parseFindListing> => (parsed ??= parseFindListing(raw, excludes));
  return { nowMs, rawDigest, raw, get paths() { return listing().paths; }, get keys() { return listing().keys; } };
}

/** What to ask the host after a push of `plan` to it; undefined: it lists whole after the transfer, as before. */
export async function askAfter(excludes: readonly string[], remote: Pick<Side, 'missing' | 'raw' | 'nowMs'>, plan: Pick<PairPlan, 'send' | 'replace' | 'delete'>, full: boolean): Promise<AfterAsk | undefined> {
  const raw = remote.missing || full || process.env.LABSYNC_AFTER === 'whole' ? undefined : remote.raw?.();
  if (!raw) return undefined;
  const before: RawListing = { parts: [raw], gaps: [], own: [raw], bytes: raw.length };
  const q = await predicted(before, plan);
  if (!q) return undefined;
  return {
    q,
    async patch(answers) {
      let got: Awaited<ReturnType<typeof patchedParts>>;
      try {
        got = await patchedParts(before, touchedBy(plan), answered(q, answers));
      } catch (error) {
        if (error instanceof Unasked) return undefined;
        throw error;
      }
      if (got === undefined) return undefined;
      const after = got === 'same' ? raw : Buffer.concat(got);
      // The records not asked again were read with the listing before: its clock judges the racy window.
      return countLinks(after) > 0 ? undefined : listingOfRaw(after, excludes, remote.nowMs);
    },
  };
}

/** The held session with its questions for the listing after a push it carries, where a verify follows and its host can take them. */
export async function asking(held: Held, pair: ResolvedPair, remote: Side, plan: PairPlan, o: { verify: boolean; full: boolean }): Promise<Held> {
  const wanted = o.verify && pair.verify !== 'none' && held.touchable;
  return { ...held, ask: wanted ? await askAfter(treeExcludes(pair), remote, plan, o.full) : undefined };
}
