// The verifier on two listed sides (issue 12): a file whose stat key is the one it had when last
// hashed is answered from that side's cache; only the rest is read — here by the workers, on an ssh
// host by sha256sum. `full` reads everything (bit rot). Never a wrong answer from a stale key: a
// cache row is found only under the exact (size, mtime, ctime, inode) it was hashed with.
import type { VerifyReport } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import type { AttemptContext } from './attempt.js';
import type { Body } from './outcome.js';
import { rememberLocalSums, rememberSumsDigest } from './receipt.js';
import { rememberSummaries } from './side-summary.js';
import { cachedSha, hashOn, remember, saveRacy, type Hashed, type Key, type Side } from './sides.js';

export interface BytesHashed { readonly local: number; readonly remote: number }

export interface ListedReport extends VerifyReport {
  readonly bytesHashed: BytesHashed;
  /** Destination files proved by the transfer's own whole-file checksum instead of being read back. */
  readonly provenByTransfer: number;
}

/**
 * What a transfer just wrote and checked (rsync compares every file it writes with the sender's
 * whole-file checksum): each path with the source's stat key when it was planned. Such a file at the
 * destination holds the bytes the source held under that key, so while the source still has that key
 * and the destination the size and mtime rsync gave it, the source's sha256 is the destination's too.
 */
export interface Written {
  readonly from: 'local' | 'remote';
  readonly keys: ReadonlyMap<string, Key>;
}

const sameKey = (a: Key | undefined, b: Key): boolean => a !== undefined && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];

/** sameKey(a, the key listed at i) without building that key (once per file of a first push). */
const isKeyAt = (a: Key, keys: Float64Array, i: number): boolean => a[0] === keys[i * 4] && a[1] === keys[i * 4 + 1] && a[2] === keys[i * 4 + 2] && a[3] === keys[i * 4 + 3];

export type Compared = { value: ListedReport } | { unsupported: string } | { stop: Body };

/** local vs remote: missing = here only, extra = there only, changed = different content (or size). */
export async function compareListed(pair: ResolvedPair, local: Side, remote: Side, mode: 'checksum' | 'size', full: boolean, ctx: AttemptContext, written?: Written): Promise<Compared> {
  // Index pairs and a flag per file, not a map of paths or a tuple per file (~0.3 GB at 1M, docs/speed-notes.md).
  const { at, seen } = matchListings(local.paths, remote.paths);
  const missing: string[] = [];
  const changed: string[] = [];
  // Local indexes judged once the unknown hashes are read (in listing order).
  const pending = new Int32Array(local.paths.length);
  let pendingN = 0;
  const needHere: string[] = [];
  const needThere: string[] = [];
  // Destination files whose sha256 is taken from the source (Written): path → [local index, remote index].
  const derived = new Map<string, [number, number]>();
  // The listings' keys once (a side's getter per file and per field showed in profiles of a first push).
  const lk = local.keys;
  const rk = remote.keys;
  const fromRemote = written?.from === 'remote';
  let proven = 0;
  /**
   * takeFromSource's answer for a written file whose source digest is in its cache under the planned key
   * and whose copy has none yet (every file of a first push): the 32 bytes are copied from cache to
   * cache, and the pair is equal by construction. No hex string, tuple or map entry per file.
   */
  const copiedFromSource = (p: string, i: number, j: number): boolean => {
    const planned = (written as Written).keys.get(p);
    if (!planned || lk[i * 4 + 1] !== rk[j * 4 + 1]) return false;
    const src = fromRemote ? remote : local;
    const dst = fromRemote ? local : remote;
    const si = fromRemote ? j : i;
    const di = fromRemote ? i : j;
    const sk = fromRemote ? rk : lk;
    const slot = isKeyAt(planned, sk, si) ? src.cache.shaSlot(p, sk, si) : -1;
    if (slot < 0 || cachedSha(dst, di)) return false;
    if (src.cache.copySha(slot, dst.cache, p, fromRemote ? lk : rk, di, dst.nowMs)) dst.racy.delete(p);
    else dst.racy.add(p);
    return true;
  };
  // The hashes known before reading (the same answer before and after: what is read later is remembered under its own key).
  const knownHere = (i: number): string | undefined => (full ? local.fresh?.get(local.paths[i] as string)?.sha256 : cachedSha(local, i));
  const knownThere = (j: number): string | undefined => (full ? remote.fresh?.get(remote.paths[j] as string)?.sha256 : cachedSha(remote, j));
  local.paths.forEach((p, i) => {
    const j = at[i] as number;
    if (j < 0) return void missing.push(p);
    if (lk[i * 4] !== rk[j * 4]) return void changed.push(p);
    if (mode === 'size') return;
    if (written && !full && copiedFromSource(p, i, j)) return void proven++;
    // --full: only what was read in this run counts (hashes taken with the listing just now).
    const a = knownHere(i);
    const b = knownThere(j);
    // Both known: judged now, nothing kept (a million pending entries held ~0.3 GB on a 1M-file tree).
    if (a && b) return void (a !== b && changed.push(p));
    const planned = full ? undefined : written?.keys.get(p);
    const unknownAtDst = fromRemote ? !a : !b;
    pending[pendingN++] = i;
    // Same mtime too: rsync -a gave the copy the source's, so a different one means someone else wrote it since.
    if (planned && unknownAtDst && lk[i * 4 + 1] === rk[j * 4 + 1] && isKeyAt(planned, fromRemote ? rk : lk, fromRemote ? j : i)) {
      derived.set(p, [i, j]);
      // Only the source side is read (dst is local when written from the remote).
      if (!fromRemote && !a) needHere.push(p);
      if (fromRemote && !b) needThere.push(p);
      return;
    }
    if (!a) needHere.push(p);
    if (!b) needThere.push(p);
  });
  const extra: string[] = [];
  remote.paths.forEach((p, j) => void (seen[j] || extra.push(p)));
  const [here, far] = await Promise.all([hashOn(local, pair, needHere, ctx), hashOn(remote, pair, needThere, ctx)]);
  if ('stop' in here) return here;
  if ('stop' in far) return far;
  if ('unsupported' in here) return here;
  if ('unsupported' in far) return far;
  const { late, taken } = takeFromSource(derived, written, local, remote, here, far);
  const again = late.length ? await hashOn(written?.from === 'remote' ? local : remote, pair, late, ctx) : undefined;
  if (again && 'stop' in again) return again;
  if (again && 'unsupported' in again) return again;
  const takenHere = written?.from === 'remote' ? taken : undefined;
  const takenThere = written?.from === 'remote' ? undefined : taken;
  // `again` read the destination only: its hash answers for that side, never for a source file gone since.
  const againHere = written?.from === 'remote' ? again : undefined;
  const againThere = written?.from === 'remote' ? undefined : again;
  for (let k = 0; k < pendingN; k++) {
    const i = pending[k] as number;
    const p = local.paths[i] as string;
    // Asked again rather than kept: a hash this run's reads remembered since is the one those reads answer.
    const x = knownHere(i) ?? here.files.sha(p) ?? takenHere?.get(p) ?? againHere?.files.sha(p);
    const y = knownThere(at[i] as number) ?? far.files.sha(p) ?? takenThere?.get(p) ?? againThere?.files.sha(p);
    // Gone from the far side since the listing: missing there; gone here (a local read fails only on a
    // file gone, anything else stops the run): there only; gone from both: nothing to compare.
    if (y === undefined && x !== undefined) missing.push(p);
    else if (x === undefined && y !== undefined) extra.push(p);
    else if (x !== y) changed.push(p);
  }
  await saveCaches(local, remote, ctx, pair);
  let sums: string | undefined;
  if (mode === 'checksum' && !missing.length && !extra.length && !changed.length) {
    sums = await rememberSummaries(pair, local, remote, (message) => ctx.emit({ kind: 'warning', pair: pair.name, message }), sameOrder(at, remote.paths.length));
  }
  // The receipt's sums digest from what was just proved, when every local file's hash is known (the
  // summary's, when it took one from the whole cache: the same lines, as cachedSha answers from the cache first).
  if (sums) rememberSumsDigest(pair, sums, local.paths.length);
  else if (mode === 'checksum') rememberLocalSums(pair, local.paths, (i) => cachedSha(local, i) ?? here.files.sha(local.paths[i] as string));
  const late2 = again?.bytes ?? 0;
  const bytesHashed = {
    local: here.bytes + (local.freshBytes ?? 0) + (written?.from === 'remote' ? late2 : 0),
    remote: far.bytes + (remote.freshBytes ?? 0) + (written?.from === 'remote' ? 0 : late2),
  };
  const provenByTransfer = derived.size - late.length + proven;
  return { value: { checked: local.paths.length, missing: missing.sort(), extra: extra.sort(), changed: changed.sort(), bytesHashed, provenByTransfer } };
}

/**
 * Gives each derived destination file its source's sha256 (`taken`, as if hashed there) and remembers
 * it under the destination's key; `late`: the paths whose source was read under another key than the
 * planned one (changed since), which must be read at the destination after all.
 */
function takeFromSource(derived: ReadonlyMap<string, [number, number]>, written: Written | undefined, local: Side, remote: Side, here: Hashed, far: Hashed): { late: string[]; taken: Map<string, string> } {
  const late: string[] = [];
  const taken = new Map<string, string>();
  if (!written) return { late, taken };
  const fromLocal = written.from === 'local';
  const [src, dst, srcHashed] = fromLocal ? [local, remote, here] : [remote, local, far];
  const k = dst.keys;
  for (const [p, [i, j]] of derived) {
    const si = fromLocal ? i : j;
    const di = fromLocal ? j : i;
    const readKey = srcHashed.files.key(p);
    const sha = readKey ? (sameKey(written.keys.get(p), readKey) ? srcHashed.files.sha(p) : undefined) : cachedSha(src, si);
    if (!sha) {
      late.push(p);
      continue;
    }
    taken.set(p, sha);
    remember(dst, [p, k[di * 4] as number, k[di * 4 + 1] as number, k[di * 4 + 2] as number, k[di * 4 + 3] as number, sha, '', '', 0], dst.nowMs);
  }
  return { late, taken };
}

/** Whether each local index matched the remote index of its own number, and every remote entry was matched: the same paths in the same order. */
function sameOrder(at: Int32Array, remoteFiles: number): boolean {
  if (at.length !== remoteFiles) return false;
  for (let i = 0; i < at.length; i++) if (at[i] !== i) return false;
  return true;
}

/**
 * For each local index, the remote index of the same path (-1: missing there), and which remote
 * entries were matched. Both listings come sorted: walked side by side then; else through a map.
 */
export function matchListings(here: readonly string[], there: readonly string[]): { at: Int32Array; seen: Uint8Array } {
  const at = new Int32Array(here.length).fill(-1);
  const seen = new Uint8Array(there.length);
  if (ascending(here) && ascending(there)) {
    let j = 0;
    for (let i = 0; i < here.length; i++) {
      const p = here[i] as string;
      while (j < there.length && (there[j] as string) < p) j++;
      if (j < there.length && there[j] === p) {
        at[i] = j;
        seen[j++] = 1;
      }
    }
    return { at, seen };
  }
  const index = new Map<string, number>();
  there.forEach((p, j) => index.set(p, j));
  here.forEach((p, i) => {
    const j = index.get(p);
    if (j === undefined) return;
    index.delete(p);
    at[i] = j;
    seen[j] = 1;
  });
  return { at, seen };
}

/** Strictly ascending in UTF-16 order (the order the walk above compares by; no duplicates). */
function ascending(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) if (!((paths[i - 1] as string) < (paths[i] as string))) return false;
  return true;
}

async function saveCaches(local: Side, remote: Side, ctx: AttemptContext, pair: ResolvedPair): Promise<void> {
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  for (const side of [local, remote]) {
    if (side.missing) continue;
    side.cache.retainPaths(side.paths);
    await side.cache.save(side.cacheRoot, warn);
    await saveRacy(pair, side, warn);
  }
}
