// The source's read for the verify, taken while the transfer runs (issue 12, first push): the files a
// plan sends are known before rsync starts, and verify needs each one's sha256 at the source anyway
// (the receipt's digest; the destination's copy is proved by rsync's own whole-file checksum). Read
// after the transfer, that was the last ~0.4 s of a 500 MB push; read meanwhile, it rides the wait for
// the ssh login and the network. Each hash is kept with the stat key the file had when read, so it
// answers only for a listing after the transfer that shows that same key: a file changed during the
// transfer is read again (and never taken as the copy's content), as before.
import type { PlannedFile } from '../plan/types.js';
import { BATCH, dispatch } from '../verify/stat-tree.js';
import type { Key, Side } from './sides.js';
import { settledAt } from '../verify/cache-key.js';

/** How far the reading may run ahead of the bytes the transfer reports sent: both then find the file in the page cache. */
const LEAD_BYTES = 256 * 1024 * 1024;
/**
 * Batches out at once while the transfer runs: one. The reads keep within LEAD_BYTES of what the tool
 * sent, which one worker outpaces (~1 GB/s of sha256 against the wire's tens to hundreds of MB/s), and
 * the pool boots a second worker only for a second batch out (~40 ms of CPU, on cores the transfer's
 * processes need). After the transfer, what is left is read two batches at a time when there is much.
 */
const IN_FLIGHT = 1;
const IN_FLIGHT_AFTER = 2;
/** Left to read after the transfer, above which a second worker pays for its boot. */
const AFTER_TWO_BYTES = 64 * 1024 * 1024;
/** A batch is cut at this many bytes too, so pacing and a stop stay fine-grained. */
const BATCH_BYTES = 32 * 1024 * 1024;
/** Up to this much in all is read on this thread. */
const HERE_BYTES = 8 * 1024 * 1024;
/** A larger file is left to the verify after the transfer: its one read could not be stopped with the run. */
export const EARLY_MAX_FILE = 64 * 1024 * 1024;

export type Fresh = ReadonlyMap<string, { readonly key: Key; readonly sha256: string }>;

export interface EarlyHashed {
  /** The files read that the side's cache refused (racy), each with the key it had when read: trusted for this run under that key only. The rest are in the cache. */
  readonly fresh: Fresh;
  readonly bytes: number;
  /** Files read (tests count them). */
  readonly files: number;
}

export interface EarlyHash {
  /** The transfer's bytes so far (rsync's progress): reading stays within LEAD_BYTES of them. */
  sent(bytes: number): void;
  /** The transfer ended: well, read the rest at full speed; else read no more. */
  end(ok: boolean): void;
  /** Settles once nothing more will be read (after end, or when every file is read); never rejects. */
  readonly done: Promise<EarlyHashed>;
}

/** The planned files worth reading early: regular sends and replaces whose source hash is not already known. */
export function earlyFiles(plan: { readonly send: readonly PlannedFile[]; readonly replace: readonly PlannedFile[] }): PlannedFile[] {
  // 'content': both sides' hashes were known to plan it, so the source's is cached already.
  return [...plan.send, ...plan.replace].filter((f) => f.reason !== 'content' && f.size <= EARLY_MAX_FILE);
}

type Run = typeof dispatch;

/** Starts reading `files` at `side` (a local folder), remembering each hash in the side's cache; `run`: where batches go (tests give their own pool). */
export function hashWhileSending(side: Side, files: readonly PlannedFile[], run: Run = dispatch): EarlyHash {
  const fresh = new Map<string, { key: Key; sha256: string }>();
  let bytes = 0;
  let read = 0;
  let next = 0;
  let queued = 0;
  let allowed = LEAD_BYTES;
  let busy = 0;
  let stopped = false;
  let ended = false;
  let left = files.reduce((n, f) => n + f.size, 0);
  let finish: (h: EarlyHashed) => void = () => undefined;
  const done = new Promise<EarlyHashed>((resolve) => (finish = resolve));
  // A handful of small files is read on this thread (starting the workers would cost more); anything
  // bigger on the workers, so this thread keeps reading the tool's output meanwhile.
  const here = files.length <= BATCH && left <= HERE_BYTES;
  const take = (paths: readonly string[], r: Awaited<ReturnType<typeof dispatch>>, nowMs: number): void => {
    const failed = new Set(r.errors.map((e) => e[0]));
    const k = r.keys;
    const digests = r.shaBytes;
    if (!digests) return;
    paths.forEach((p, i) => {
      // Gone or unreadable: the verify after the transfer reads it again and says so.
      if (failed.has(i) || Number.isNaN(k[i * 4])) return;
      read++;
      bytes += k[i * 4] as number;
      // Into the side's cache as bytes, under the key the file was read with; a file changed within the
      // racy window is refused there and kept here instead, trusted for this run under that key only.
      if (side.cache.putSha(p, k, i, digests, i * 32, nowMs)) return void side.racy.delete(p);
      side.racy.add(p);
      // Not even for this run where a rewrite after the read could have kept the key (a whole-second
      // ctime of this very second): the verify reads it again after the transfer (review 50).
      if (!settledAt(k[i * 4 + 2] as number, nowMs)) return;
      fresh.set(p, { key: [k[i * 4] as number, k[i * 4 + 1] as number, k[i * 4 + 2] as number, k[i * 4 + 3] as number], sha256: Buffer.from(digests.buffer, digests.byteOffset + i * 32, 32).toString('hex') });
    });
  };
  const pump = (): void => {
    while (!stopped && busy < (ended && left > AFTER_TWO_BYTES ? IN_FLIGHT_AFTER : IN_FLIGHT) && next < files.length && queued < allowed) {
      const paths: string[] = [];
      let size = 0;
      while (next < files.length && paths.length < BATCH && (paths.length === 0 || size < BATCH_BYTES)) {
        const f = files[next++] as PlannedFile;
        paths.push(f.path);
        size += f.size;
      }
      queued += size;
      left -= size;
      busy++;
      // The racy window is judged from before this batch's reads began.
      const nowMs = Date.now();
      run({ op: 'hash', root: side.path, paths, sha256: true, sha256Bytes: true }, here)
        .then((r) => take(paths, r, nowMs), () => undefined) // a lost worker: the verify reads these
        .finally(() => {
          busy--;
          pump();
        });
    }
    if (busy === 0 && (stopped || next >= files.length)) finish({ fresh, bytes, files: read });
  };
  // After the caller's next step (the transfer's spawn): a small set is read on this thread.
  setImmediate(pump);
  return {
    sent(n) {
      if (queued < n + LEAD_BYTES) {
        allowed = Math.max(allowed, n + LEAD_BYTES);
        pump();
      }
    },
    end(ok) {
      ended = true;
      if (ok) allowed = Number.POSITIVE_INFINITY;
      else stopped = true;
      pump();
    },
    done,
  };
}

/** `side` with the early hashes as hashed-in-this-run (its own `fresh`, counted in its bytes read). */
export function withEarly(side: Side, early: EarlyHashed | undefined): Side {
  if (!early || !early.bytes) return side;
  // A local side has none of its own (only an ssh listing hashes in its call): no copy then.
  let fresh: Fresh = early.fresh;
  if (side.fresh?.size) {
    const both = new Map(side.fresh);
    for (const [p, f] of early.fresh) if (!both.has(p)) both.set(p, f);
    fresh = both;
  }
  // Not spread: the side's listing and cache are getters that would be evaluated (parsed, opened) now.
  return Object.create(side, { fresh: { value: fresh }, freshBytes: { value: (side.freshBytes ?? 0) + early.bytes } }) as Side;
}
