// Runs the selected pairs through the pool, records state, and reports through events.
import { sep } from 'node:path';
import type { PlanContext } from '../adapters/types.js';
import type { Redactor } from '../exec/redact.js';
import { makeFolderSync } from '../state/own-folder.js';
import { stateDir } from '../state/paths.js';
import { endsKey } from '../state/ends.js';
import { recordRuns, type PairRecord } from '../state/store.js';
import type { Action, ResolvedPair } from '../types.js';
import type { Emit, PairResult, RunResult } from './events.js';
import { mapPool } from './pool.js';
import { mark } from '../util/trace.js';
import { recordReceipt } from './receipt.js';
import { runPair, stoppedBefore } from './run-pair.js';
import type { Shard } from './shard.js';
import type { PlanSeam } from './plan-seam.js';
import { versionsFor } from './versions.js';
import { directionOf } from './pair-options.js';
import { nestedThroughLinks, realFolders } from '../manifest/nested-pairs.js';
import { dvcRepoSync } from '../adapters/dvc/root.js';
import type { DrainOptions } from './drain-pair.js';

export interface RunRequest {
  readonly command: string;
  readonly action: Action;
  readonly root: string;
  readonly pairs: readonly ResolvedPair[];
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly waitMs: number;
  readonly tty: boolean;
  readonly verbose: boolean;
  readonly resync: boolean;
  /** `check --full`: download to compare where the remote offers no checksum. */
  readonly full: boolean;
  /** `push --commit MESSAGE`. */
  readonly commitMessage?: string;
  /** `plan --save` / `apply`: per pair name, where its run meets the saved plan (plan-seam.ts). */
  readonly seams?: ReadonlyMap<string, PlanSeam>;
  /** `apply`: the digest of the plan file carried out, for the receipts. */
  readonly appliedPlan?: string;
  /** `pull|check|status --snapshot STAMP`. */
  readonly snapshot?: string;
  /** `--shard K/N` (or K/N from a Slurm array / Indexed Job), by pair name: the slice each pair's run handles. */
  readonly shards?: ReadonlyMap<string, Shard>;
  /** Every pair of the manifest: a mirror pull looks whether one lies in its folder through a link (nested-pairs.ts). */
  readonly everyPair?: readonly ResolvedPair[];
  /** `drain`: each pair pushed newest first until this deadline (drain-pair.ts). */
  readonly drain?: DrainOptions;
}

/** Dated folder names must sort, be valid everywhere (no colons), and differ between two runs in one second. */
export function runStamp(date: Date): string {
  return date.toISOString().replace(/:/g, '-');
}

const NOT_RECORDED = new Set(['planned', 'locked', 'skipped']);

function toRecord(r: PairResult, pair: ResolvedPair | undefined, redact: Redactor): PairRecord {
  return {
    name: r.name, category: r.category, tool: r.tool, action: r.action, status: r.status, startedAt: r.startedAt,
    finishedAt: new Date(Date.parse(r.startedAt) + r.durationMs).toISOString(), durationMs: r.durationMs,
    attempts: r.attempts, files: r.files, bytes: r.bytes, ...(r.error ? { error: r.error } : {}),
    ...(pair ? { ends: endsKey(pair, redact) } : {}),
  };
}

function seamOf(req: RunRequest, pair: ResolvedPair): { seam?: PlanSeam } {
  const seam = req.seams?.get(pair.name);
  return seam ? { seam } : {};
}

function shardOf(req: RunRequest, pair: ResolvedPair): { shard?: Shard } {
  const shard = req.shards?.get(pair.name);
  return shard ? { shard } : {};
}

/** The folder holding the .dvc/ a pair's data is in (the nearest above it), asked once per folder. */
const dvcRepos = new Map<string, string | undefined>();
function dvcRepoOf(local: string): string | undefined {
  if (!dvcRepos.has(local)) dvcRepos.set(local, dvcRepoSync(local));
  return dvcRepos.get(local);
}

/** A mirror pull's pair with the pairs in its folder through a link added to those written inside it (refused alike, run-pair.ts). */
function withLinkedNesting(pair: ResolvedPair, req: RunRequest, real: ReadonlyMap<string, string | undefined>): ResolvedPair {
  if (!mirrorPull(pair, req) || !req.everyPair) return pair;
  const more = nestedThroughLinks(pair, req.everyPair, real);
  return more.length ? { ...pair, nestedPairs: [...(pair.nestedPairs ?? []), ...more] } : pair;
}

const mirrorPull = (pair: ResolvedPair, req: RunRequest): boolean => pair.delete && req.action !== 'check' && req.action !== 'status' && directionOf(pair, req.action) === 'pull';

/**
 * The folders whose links matter to this run, resolved (realFolders: off this process, bounded): every
 * pair's for a mirror pull's check, the selected ones' where two or more may take turns. None otherwise:
 * a run of one push never looks (review 63: every run had resolved its folders in this process).
 */
function foldersToResolve(req: RunRequest, signal: AbortSignal): Promise<Map<string, string | undefined>> {
  const mirror = Boolean(req.everyPair) && req.pairs.some((p) => mirrorPull(p, req));
  const paths = [...(mirror ? (req.everyPair ?? []) : []), ...(req.pairs.length > 1 ? req.pairs : [])].map((p) => p.local);
  return paths.length ? realFolders(paths, undefined, signal) : Promise.resolve(new Map());
}

/**
 * Whether two pairs must not run at once: one's folder in the other's, as written or with its links
 * resolved (`realOf`), or two dvc pairs of one repository (each commits its .dvc files: review 36).
 * labsync push and watch take turns alike; watch knows a repository only from its folder's answer
 * (`repoOf`, off its event loop: UNKNOWN_REPO until then, and two dvc pairs then take turns).
 */
export function takeTurns(a: ResolvedPair, b: ResolvedPair, realOf: (p: ResolvedPair) => string, repoOf: (p: ResolvedPair) => string | undefined = (p) => dvcRepoOf(p.local)): boolean {
  if (nested(a.local, b.local) || nested(realOf(a), realOf(b))) return true;
  if (a.tool !== 'dvc' || b.tool !== 'dvc') return false;
  const [ra, rb] = [repoOf(a), repoOf(b)];
  return ra === UNKNOWN_REPO || rb === UNKNOWN_REPO || ra === rb;
}

/** What takeTurns' `repoOf` answers for a dvc pair whose repository is not known yet. */
export const UNKNOWN_REPO = '\0unknown';

export function nested(a: string, b: string): boolean {
  const inside = (x: string, y: string): boolean => x === y || x.startsWith(y.endsWith(sep) ? y : `${y}${sep}`);
  return inside(a, b) || inside(b, a);
}

export async function runPairs(req: RunRequest, emit: Emit, redact: Redactor, signal: AbortSignal): Promise<RunResult> {
  const started = new Date();
  // Read once, before any pair: what rclone is passed depends on its version.
  const toolVersions = await versionsFor(req.pairs, redact);
  const plan: PlanContext = {
    stamp: runStamp(started), tty: req.tty, verbose: req.verbose, resync: req.resync, full: req.full,
    ...(req.commitMessage ? { commitMessage: req.commitMessage } : {}), ...(Object.keys(toolVersions).length ? { toolVersions } : {}),
    ...(req.snapshot ? { snapshot: req.snapshot } : {}),
  };
  // Before any tool runs (rclone makes its bisync workdir itself): the folder with its ignore files.
  // A folder that cannot be made is reported by whatever then fails to write there. Synchronous: a
  // mkdir and two small files, each a thread-pool round trip as a promise (state/atomic.ts).
  try {
    makeFolderSync(stateDir(req.root));
  } catch {
    // said later, by the first write there
  }
  mark('versions, state folder');
  emit({
    kind: 'run_start', command: req.command, dryRun: req.dryRun,
    pairs: req.pairs.map((p) => ({ name: p.name, category: p.category, tool: p.tool, action: req.action, source: p.source })),
  });
  // Each pair's folder with its links resolved, once: pairs nested only through a link take turns too
  // (one that did not answer: as written).
  const real = await foldersToResolve(req, signal);
  const realOf = (p: ResolvedPair): string => real.get(p.local) ?? p.local;
  const results = await mapPool(
    req.pairs,
    req.concurrency,
    (pair) => runPair(withLinkedNesting(pair, req, real), { action: req.action, dryRun: req.dryRun, verify: req.verify, waitMs: req.waitMs, command: req.command, plan, emit, redact, signal, ...seamOf(req, pair), ...shardOf(req, pair), ...(req.drain ? { drain: req.drain } : {}) }),
    // dvc pairs share their repository's .dvc/config.local and git index (a remote written over another's,
    // a commit sweeping up a sibling's staged .dvc file): one at a time, as nested folders are.
    (a, b) => takeTurns(a, b, realOf),
  );
  mark('pairs done');
  const recorded = req.action === 'status' || req.action === 'check' || req.dryRun ? [] : results.filter((r) => !NOT_RECORDED.has(r.status));
  // The state and the receipts are separate files, each written durably: at once, so the run waits for
  // one round of fsyncs, not one after the other.
  const pairOf = new Map(req.pairs.map((p) => [p.name, p]));
  const state = recordRuns(req.root, recorded.map((r) => toRecord(r, pairOf.get(r.name), redact))).then(
    () => mark('state recorded'),
    (error: Error) => emit({ kind: 'warning', message: `could not record state: ${error.message}` }),
  );
  const receipts = recorded.map((r) => {
    const pair = req.pairs.find((p) => p.name === r.name);
    if (!pair || r.status === 'interrupted') return undefined;
    // A receipt is a record, not a condition of success: failing to write one only warns.
    return recordReceipt(pair, r, plan.stamp, redact, req.appliedPlan).catch((error: Error) => emit({ kind: 'warning', pair: r.name, message: `could not write a receipt: ${error.message}` }));
  });
  await Promise.all([state, ...receipts]);
  mark('receipts');
  const result: RunResult = {
    command: req.command,
    // Pairs not started because the run was stopped: not ok, though each says `skipped` (review 45).
    ok: results.every((r) => ['ok', 'in_sync', 'planned', 'skipped'].includes(r.status)) && !stoppedBefore(results),
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    dryRun: req.dryRun,
    pairs: results,
  };
  emit({ kind: 'run_end', result });
  return result;
}

