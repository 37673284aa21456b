// Reading receipts back: the list `labsync receipts` prints, and a split pair's last run as the
// union of its shards' receipts (issue 16 §3). Shards write nothing shared but their receipts, so
// this is the only place that sees a run whole.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { receiptsDir } from './paths.js';
import type { Receipt } from './receipts.js';

export interface ReadReceipt extends Receipt {
  /** The file name under `.labsync/receipts/`. */
  readonly file: string;
}

/** Every field a listing of receipts shows: an edited or damaged one is skipped, never a crash (one without `action` was). */
const isReceipt = (x: unknown): x is Receipt => {
  const r = x as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) return false;
  if (!['pair', 'category', 'action', 'status', 'startedAt'].every((k) => typeof r[k] === 'string') || !['files', 'bytes', 'durationMs'].every((k) => Number.isFinite(r[k]))) return false;
  // Its end time is shown and compared: a date that does not parse would throw there.
  if (!Number.isFinite(Date.parse(r.startedAt as string))) return false;
  const shard = r.shard as Record<string, unknown> | undefined;
  return shard === undefined || (typeof shard === 'object' && shard !== null && Number.isInteger(shard.index) && Number.isInteger(shard.count) && (shard.run === null || typeof shard.run === 'string'));
};

/** A receipt file's name (receipts.ts writeReceipt): `<stamp>-<pair>[.shard-K-of-N].json`. */
const NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?Z-(.+?)(\.shard-\d+-of-\d+)?\.json$/;

async function receiptNames(root: string): Promise<string[]> {
  return readdir(receiptsDir(root)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
}

/**
 * Every readable receipt, oldest first; with `pairs`, only those pairs' (by file name: a year of
 * hourly runs of other pairs is not parsed). A file that is not a receipt (half-copied, edited) is
 * skipped, not fatal.
 */
export async function readReceipts(root: string, pairs?: ReadonlySet<string>): Promise<ReadReceipt[]> {
  const dir = receiptsDir(root);
  const names = await receiptNames(root);
  const out: ReadReceipt[] = [];
  const wanted = (n: string): boolean => {
    if (!pairs) return n.endsWith('.json');
    const m = NAME.exec(n);
    return m !== null && pairs.has(m[1] as string);
  };
  for (const file of names.filter(wanted)) {
    try {
      const doc: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'));
      if (isReceipt(doc)) out.push({ ...doc, file });
    } catch {
      // Unreadable: not a receipt this listing can speak for.
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.file.localeCompare(b.file));
}

/** The pairs with any shard receipt (by file name): only theirs are read to tell a split run. */
export async function shardedPairs(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const n of await receiptNames(root)) {
    const m = NAME.exec(n);
    if (m?.[2]) out.add(m[1] as string);
  }
  return out;
}

const DONE = new Set(['ok', 'in_sync']);

export interface ShardedRun {
  /** The fingerprint the shards share (shard.ts runFingerprint). */
  readonly run: string;
  readonly count: number;
  readonly complete: boolean;
  /** Shards whose latest receipt in this run is ok. */
  readonly ok: readonly number[];
  /** Shards that wrote no receipt for this run. */
  readonly missing: readonly number[];
  /** Shards whose latest receipt in this run is not ok, with its status. */
  readonly failed: readonly { readonly index: number; readonly status: string; readonly error?: string }[];
  readonly files: number;
  readonly bytes: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/**
 * A pair's last run when its newest receipt is a shard's: every receipt of that run (same
 * fingerprint and N), the latest per shard. A shard that stopped before it could list (no
 * fingerprint) counts against the run it came after. Undefined: the last run was not split.
 */
export function lastShardedRun(receipts: readonly ReadReceipt[], pair: string): ShardedRun | undefined {
  const mine = receipts.filter((r) => r.pair === pair && r.action !== 'check');
  const newest = mine.at(-1);
  if (!newest?.shard) return undefined;
  const count = newest.shard.count;
  const keyed = [...mine].reverse().find((r) => r.shard?.count === count && r.shard.run !== null);
  const run = keyed?.shard?.run ?? null;
  const since = keyed ? Math.min(...mine.filter((r) => r.shard?.run === run && r.shard.count === count).map((r) => Date.parse(r.startedAt))) : 0;
  const members = mine.filter((r) => r.shard?.count === count && (r.shard.run === run || (r.shard.run === null && Date.parse(r.startedAt) >= since)));
  const latest = new Map<number, ReadReceipt>();
  for (const r of members) latest.set((r.shard as NonNullable<Receipt['shard']>).index, r);
  const ok: number[] = [];
  const missing: number[] = [];
  const failed: { index: number; status: string }[] = [];
  let files = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const r = latest.get(i);
    if (!r) missing.push(i);
    else {
      files += r.files;
      bytes += r.bytes;
      if (DONE.has(r.status)) ok.push(i);
      else failed.push({ index: i, status: r.status });
    }
  }
  const times = [...latest.values()];
  return {
    run: run ?? 'unknown', count, complete: ok.length === count, ok, missing, failed, files, bytes,
    startedAt: times.map((r) => r.startedAt).sort()[0] ?? newest.startedAt,
    finishedAt: times.map((r) => new Date(Date.parse(r.startedAt) + r.durationMs).toISOString()).sort().at(-1) ?? newest.startedAt,
  };
}

/**
 * When the pair last finished whole: a run without shards that ended ok, or a split run every shard
 * of which ended ok (at its last shard's end). A shard's own success is not the pair's.
 */
export function lastWholeSuccess(receipts: readonly ReadReceipt[], pair: string): string | undefined {
  const mine = receipts.filter((r) => r.pair === pair && r.action !== 'check');
  const end = (r: ReadReceipt): string => new Date(Date.parse(r.startedAt) + r.durationMs).toISOString();
  let best: string | undefined;
  const later = (t: string): void => void (best === undefined || t > best ? (best = t) : undefined);
  for (const r of mine) if (!r.shard && DONE.has(r.status)) later(end(r));
  const groups = new Map<string, Map<number, ReadReceipt>>();
  for (const r of mine) {
    if (!r.shard?.run) continue;
    const key = `${r.shard.run}/${r.shard.count}`;
    const g = groups.get(key) ?? new Map<number, ReadReceipt>();
    g.set(r.shard.index, r); // oldest first: the latest per shard wins
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const all = [...g.values()];
    const count = all[0]?.shard?.count ?? 0;
    if (all.length === count && all.every((r) => DONE.has(r.status))) later(all.map(end).sort().at(-1) as string);
  }
  return best;
}

/** "3/3 shards ok" or "2/3 shards: 1 missing; 2 failed (refused)", for status and check. */
export function describeShardedRun(s: ShardedRun): string {
  if (s.complete) return `${s.count}/${s.count} shards ok`;
  const parts = [
    ...(s.missing.length ? [`shard${s.missing.length === 1 ? '' : 's'} ${s.missing.join(', ')} missing`] : []),
    ...s.failed.map((f) => `shard ${f.index} ${f.status}`),
  ];
  return `incomplete, ${s.ok.length}/${s.count} shards ok: ${parts.join('; ')}`;
}
