// One pair split across N workers (issue 16 §3): which files are this worker's, and which worker
// this process is. Pure: no fs, no spawn. Every worker computes the same whole-pair plan; the slice
// only decides which of its files this worker moves.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ResolvedPair } from '../types.js';

/** Worker `index` of `count` (0-based, as Slurm's `--array=0-(N-1)` and Kubernetes' completion index count). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const MAX_SHARDS = 10_000;

export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;

/**
 * The shard a relative path falls in: the first 8 bytes of sha256(path), big-endian, mod N. Stable
 * across machines, Node versions and runs (no seed, no locale), and independent of the listing's
 * order, so every worker puts every file in the same slice without talking to the others.
 */
export function shardOf(path: string, count: number): number {
  if (count <= 1) return 0;
  const h = createHash('sha256').update(path).digest();
  return Number(h.readBigUInt64BE(0) % BigInt(count));
}

export const inSlice = (path: string, s: Shard): boolean => shardOf(path, s.count) === s.index;

/** Whole numbers only, in decimal: `07` and `1e3` are not indices anyone meant. */
function wholeNumber(text: string): number | undefined {
  return /^(0|[1-9]\d{0,8})$/.test(text) ? Number(text) : undefined;
}

/** `--shard K/N`: K in 0..N-1, N in 1..10000. */
export function parseShard(text: string, where = '--shard'): Shard {
  const m = /^\s*([^/\s]+)\s*\/\s*([^/\s]+)\s*$/.exec(text);
  if (!m) throw new UsageError(`${where} needs K/N (this worker's 0-based index K of N workers, like 0/4), got '${text}'`);
  return checkedShard(m[1] as string, m[2] as string, where, text);
}

function checkedShard(k: string, n: string, where: string, text: string): Shard {
  const count = wholeNumber(n);
  if (count === undefined || count < 1 || count > MAX_SHARDS) throw new UsageError(`${where}: N must be a whole number from 1 to ${MAX_SHARDS}, got '${n}' (in '${text}')`);
  const index = wholeNumber(k);
  if (index === undefined || index >= count) throw new UsageError(`${where}: K must be a whole number from 0 to ${count - 1} (N-1), got '${k}' (in '${text}')`);
  return { index, count };
}

/**
 * Where this worker's K/N comes from when `--shard` is not given. Never guessed:
 * - Slurm: only when both `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` are set; K counts from
 *   `SLURM_ARRAY_TASK_MIN` (0 when unset) in steps of `SLURM_ARRAY_TASK_STEP` (1 when unset), so
 *   `--array=1-4` and `--array=0-6:2` work as well as `--array=0-3`; an id off the step is refused.
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` is K; N must be said explicitly, by the pair's
 *   `shards:` or `LABSYNC_SHARDS` (the Job's completions are not in the pod's environment).
 * - A CI matrix passes `--shard K/N`.
 * The environment applies only to a pair that declares `shards:` (or to every pair when
 * `LABSYNC_SHARDS` is set): an array job that runs labsync for something else is not split by
 * accident. Undefined: run the whole pair.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, declared: number | undefined): Shard | undefined {
  const forced = env.LABSYNC_SHARDS;
  let wanted = declared;
  if (forced !== undefined && forced !== '') {
    const n = wholeNumber(forced.trim());
    if (n === undefined || n < 1 || n > MAX_SHARDS) throw new UsageError(`LABSYNC_SHARDS must be a whole number from 1 to ${MAX_SHARDS}, got '${forced}'`);
    if (declared !== undefined && declared !== n) throw new UsageError(`LABSYNC_SHARDS=${n} but the pair says shards: ${declared}; they must agree`);
    wanted = n;
  }
  if (wanted === undefined) return undefined;
  const id = env.SLURM_ARRAY_TASK_ID;
  const total = env.SLURM_ARRAY_TASK_COUNT;
  if (id !== undefined && id !== '' && total !== undefined && total !== '') {
    const min = wholeNumber((env.SLURM_ARRAY_TASK_MIN ?? '0').trim());
    const raw = wholeNumber(id.trim());
    if (min === undefined) throw new UsageError(`SLURM_ARRAY_TASK_MIN must be a whole number, got '${env.SLURM_ARRAY_TASK_MIN}'`);
    if (raw === undefined || raw < min) throw new UsageError(`SLURM_ARRAY_TASK_ID must be a whole number of at least SLURM_ARRAY_TASK_MIN (${min}), got '${id}'`);
    const step = wholeNumber((env.SLURM_ARRAY_TASK_STEP ?? '1').trim());
    if (step === undefined || step < 1 || (raw - min) % step !== 0) throw new UsageError(`SLURM_ARRAY_TASK_ID ${id} is not on the array's step (SLURM_ARRAY_TASK_MIN ${min}, SLURM_ARRAY_TASK_STEP ${env.SLURM_ARRAY_TASK_STEP ?? 'unset'}); submit the pair with --array=0-${wanted - 1}`);
    const s = checkedShard(String((raw - min) / step), total.trim(), 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT', `${id}/${total}`);
    if (s.count !== wanted) throw new UsageError(`the Slurm array has ${s.count} tasks (SLURM_ARRAY_TASK_COUNT) but the pair is split into ${wanted} shards; submit it with --array=0-${wanted - 1}`);
    return s;
  }
  const index = env.JOB_COMPLETION_INDEX;
  if (index !== undefined && index !== '') return checkedShard(index.trim(), String(wanted), 'JOB_COMPLETION_INDEX', `${index} of ${wanted}`);
  return undefined;
}

/** Why this pair cannot be split (its tool does its own diff, or a run is one unit), or undefined. */
export function shardRefusal(pair: ResolvedPair, direction: string): string | undefined {
  const why = (reason: string): string => `${pair.category}.${pair.name} cannot run as a shard: ${reason}; run it without --shard (and without shards:)`;
  if (direction !== 'push' && direction !== 'pull') return why(`a ${direction} is one unit (both sides change together)`);
  if (pair.snapshots) return why('a snapshot is one dated tree written by one run');
  if (pair.tool === 'rsync' && (pair.remote.type === 'local' || pair.remote.type === 'ssh')) return undefined;
  if (pair.tool === 'aws' || pair.tool === 'rclone') return undefined;
  const whole = pair.tool === 'git' || pair.tool === 'dvc' ? 'repository state' : pair.tool === 'mlflow' ? 'model version' : 'revision';
  return why(`${pair.tool} moves the whole ${whole} itself, so labsync has no file plan to split`);
}

/**
 * What identifies one sharded run across its workers: the source tree as listed (path, size, mtime),
 * the direction and whether it mirrors. Workers that start one after another see a destination that
 * earlier workers already changed, so the destination cannot be part of it; the source is what every
 * worker makes the destination equal to.
 */
export function runFingerprint(direction: 'push' | 'pull', mirror: boolean, source: Iterable<{ readonly path: string; readonly size: number; readonly mtimeMs?: number | undefined; readonly uploadedMs?: number | undefined }>): string {
  const rows: string[] = [];
  for (const e of source) {
    const t = e.mtimeMs ?? e.uploadedMs;
    rows.push(`${e.path}\0${e.size}\0${t === undefined ? '' : Math.floor(t / 1000)}`);
  }
  rows.sort();
  const h = createHash('sha256').update(`${direction}\0${mirror ? 'mirror' : 'copy'}\n`);
  for (const r of rows) h.update(`${r}\n`);
  return h.digest('hex');
}

/** The local lock a run takes: per pair, and per pair and shard for a shard. */
export const lockName = (pair: Pick<ResolvedPair, 'name'>, shard: Shard | undefined): string => (shard ? `${pair.name}.${shardSuffix(shard)}` : pair.name);

/** How a shard is named in file names (locks, receipts, staging folders). */
export const shardSuffix = (s: Shard): string => `shard-${s.index}-of-${s.count}`;
