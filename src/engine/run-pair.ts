// One pair, start to end: lock → guards → preview → transfer → verify. Returns a PairResult, never throws.
import { adapterFor } from '../adapters/index.js';
import { storeLister } from '../adapters/files.js';
import { PairSetupError } from '../errors.js';
import type { Adapter, Changes, Command, PlanContext } from '../adapters/types.js';
import { backupLocal, BACKUP_DIR } from './local-backup.js';
import { formatCommand } from '../exec/format.js';
import type { Redactor } from '../exec/redact.js';
import { acquireLock } from '../state/lock.js';
import { locksDir } from '../state/paths.js';
import type { Action, Direction, ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { describeDrift, localFiles, sayUnproven, verifyPair } from './compare-pair.js';
import { probe, stopped, type Body } from './outcome.js';
import type { Emit, PairResult, VerifyResult } from './events.js';
import { guardChanges } from './guards.js';
import { plannedBody } from './plan-pair.js';
import { unplannable, type PlanSeam } from './plan-seam.js';
import { failedStatuses, withHooks } from './hooks.js';
import { movedStats } from './sizes.js';
import { prepareLocal } from './source.js';
import { listBoth, planBody, plansItself, verifyListed } from './plan-run.js';
import { fullCheckDue } from './full-check.js';
import { rememberSumsDigest } from './receipt.js';
import { recognisePair } from './unchanged.js';
import { clearStaleToolLocks } from './tool-locks.js';
import { versionRefusal } from './versions.js';
import { withCompressChoice } from './compress-choice.js';
import { snapshotPush, snapshotSource, verifySnapshot } from './snapshots.js';
import { withSharedSsh } from './ssh-mux.js';
import { holdsSession, takeSession } from './ssh-held.js';
import { drainBody, type DrainOptions } from './drain-pair.js';
import { lockName, type Shard } from './shard.js';
import { asShard, shardFacts, sliceVerify, type ShardRun } from './shard-plan.js';
import { underRemoteLock } from './remote-lock.js';
import { mark } from '../util/trace.js';

export interface PairRunOptions {
  readonly action: Action;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly waitMs: number;
  readonly command: string;
  readonly plan: PlanContext;
  readonly emit: Emit;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  /** `plan --save` / `apply`: the run stops at its plan, or carries out the given one (plan-seam.ts). */
  readonly seam?: PlanSeam;
  /** This worker's slice of the pair (shard.ts): the whole plan is computed and guarded, only the slice is moved. */
  readonly shard?: Shard;
  /** `drain`: push newest first until the deadline (drain-pair.ts). */
  readonly drain?: DrainOptions;
  /** Set by runPair for a shard: the planning paths write the run's fingerprint here. */
  readonly shardRun?: ShardRun;
}

export function directionOf(pair: ResolvedPair, action: Action): Direction {
  return action === 'push' || action === 'pull' ? action : pair.mode;
}

/** `labsync check`: only the comparison (SPEC §6). A pair with verify: none is still checked, by checksum. */
async function checkBody(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, commands: string[]): Promise<Body> {
  const direction = directionOf(pair, 'check');
  const read = await snapshotRead(pair, { adapter, pair, emit: o.emit, redact: o.redact, signal: o.signal, progress: false }, o, () => undefined);
  if ('stop' in read) return read.stop;
  if ('none' in read) return { status: 'drift', error: read.none };
  const checked = { ...read.pair, verify: pair.verify === 'size' ? ('size' as const) : ('checksum' as const) };
  const ctx: AttemptContext = { adapter, pair: checked, emit: o.emit, redact: o.redact, signal: o.signal, progress: false };
  // The remote's listing says which lister took it (labsync's own S3 listing or the tool's) in --json's commands.
  const got = (await checkListed(checked, adapter, direction, ctx, o)) ?? (await verifyPair(adapter, checked, direction, ctx, o.plan, (l) => void commands.push(...l)));
  if ('stop' in got) return got.stop;
  // `check --shard K/N` answers for its slice: what the other workers move is theirs to check.
  const v = o.shard ? sliceVerify(got, o.shard, pair, direction) : got;
  if (v.status === 'skipped') return { status: 'skipped', error: `${pair.tool} cannot compare this remote without downloading it` };
  const warnings = sayUnproven(v, pair, o.emit);
  const snapshot = read.name ? { snapshot: read.name } : {};
  return v.status === 'drift'
    ? { status: 'drift', error: `differs: ${describeDrift(v, checked, direction)}`, verify: v, warnings, ...snapshot }
    : { status: 'in_sync', verify: v, warnings, ...snapshot };
}

/** Both sides listed once and compared through their hash caches; undefined where the tool's own comparison must answer. */
async function checkListed(pair: ResolvedPair, adapter: Adapter, direction: Direction, ctx: AttemptContext, o: PairRunOptions): Promise<VerifyResult | { stop: Body } | undefined> {
  if ((direction !== 'push' && direction !== 'pull') || (pair.remote.type !== 'ssh' && pair.remote.type !== 'local') || !plansItself(pair, adapter) || pair.verify === 'none') return undefined;
  const full = fullCheckDue(pair, o.plan.full);
  // Local folders keep their tree summaries (unchanged.ts): an unchanged local pair is answered from
  // its two find listings without parsing either or loading a cache; else those listings are compared.
  const known = await recognisePair(pair, ctx, full);
  if ('same' in known) {
    if (known.same.sums) rememberSumsDigest(pair, known.same.sums, known.same.files);
    return { status: 'in_sync', checked: known.same.files, missing: [], extra: [], changed: [], mode: pair.verify, proof: 'cached', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } };
  }
  // The host lists in a held session, as a push's does: the same ssh command, so bin/labsync.js may have
  // started it already (exec/early.ts); it ends as soon as the listing is in.
  const hold = holdsSession(pair, { dryRun: false, seam: false, shard: Boolean(o.shard) });
  const listed = await listBoth(pair, ctx, undefined, known.stats, undefined, hold ? { hold: true } : undefined);
  if ('unsupported' in listed) return undefined;
  if ('stop' in listed) return listed;
  takeSession(listed.remote)?.session.release();
  return verifyListed(pair, direction, listed.local, listed.remote, pair.verify, full, ctx);
}

async function body(asWritten: ResolvedPair, adapter: Adapter, o: PairRunOptions, commands: string[]): Promise<Body> {
  const direction = directionOf(asWritten, o.action);
  // Strings are lines already formatted (labsync's own S3 listing, exec/s3-list.ts).
  const show = (list: readonly (Command | string)[]): void => void commands.push(...list.map((c) => (typeof c === 'string' ? c : formatCommand(c, o.redact))));
  const chosen = o.action === 'status' ? { pair: asWritten } : await withCompressChoice(asWritten, o.plan.stamp, { adapter, pair: asWritten, emit: o.emit, redact: o.redact, signal: o.signal, progress: false });
  if ('stop' in chosen) return chosen.stop;
  const pair = chosen.pair;
  const ctx: AttemptContext = { adapter, pair, emit: o.emit, redact: o.redact, signal: o.signal, progress: false };
  if (o.drain) return drainBody(pair, adapter, o, o.drain, ctx, show);
  if (pair.snapshots && direction === 'push' && o.action !== 'status') {
    if (o.plan.snapshot) return { status: 'refused', error: '--snapshot picks what pull, check and status read; a push always writes a new snapshot' };
    return snapshotPush(pair, adapter, o, ctx, show, (target, base) => {
      const at: AttemptContext = { ...ctx, pair: target };
      return afterTransfer(target, adapter, o, at, show, base, 'push', () => verifySnapshot(target, adapter, at, o.plan));
    });
  }
  const source = await snapshotRead(pair, ctx, o, show);
  if ('stop' in source) return source.stop;
  if ('none' in source) return o.action === 'status' ? { status: 'drift', error: source.none } : { status: 'refused', error: `${source.none}; nothing to pull` };
  const done = await plainBody(source.pair, adapter, o, direction, { ...ctx, pair: source.pair }, show);
  return source.name ? { ...done, snapshot: source.name } : done;
}

/** A pair's run once it is known what the remote is: list or preview, guard, transfer, verify. */
async function plainBody(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, direction: Direction, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void): Promise<Body> {
  if ((direction === 'push' || direction === 'pull') && plansItself(pair, adapter)) {
    const planned = await planBody(pair, adapter, o, direction, ctx, show);
    if (planned) return planned;
  }
  // aws and rclone: labsync lists the remote with the checksums it keeps (ETags, MD5s) and plans (plan-pair.ts).
  const lister = direction !== 'bisync' && process.env.LABSYNC_PLAN !== '0' ? storeLister(adapter, pair, direction) : undefined;
  if (lister && direction !== 'bisync') return plannedBody(pair, adapter, lister, direction, o, ctx, show);
  if (o.seam) return unplannable(pair, o.seam);
  if (o.shard) return { status: 'refused', error: `${pair.category}.${pair.name} cannot run as a shard here: ${pair.tool} compares ${pair.remoteLabel} by itself (labsync could not list it to plan, e.g. the folder holds symlinks), so there is no file plan to split; nothing was changed` };

  if (o.action !== 'status' && !o.dryRun) {
    for (const gone of await clearStaleToolLocks(adapter, pair, direction, o.plan)) {
      o.emit({ kind: 'warning', pair: pair.name, message: `removed ${pair.tool}'s lock left by PID ${gone.pid}, which is no longer running (${gone.file}); this run recovers from its listings` });
    }
  }
  const preview = adapter.preview(pair, direction, o.plan);
  show(preview.commands);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const looked = await probe<Changes>(preview, ctx);
  if ('stop' in looked) return looked.stop;
  const changes = direction === 'pull' ? withLocalDestination(looked.value, pair, adapter) : looked.value;
  const pending = changes.transfer.length + changes.delete.length + (changes.uncommitted?.length ?? 0);

  if (o.action === 'status') return { status: pending ? 'drift' : 'in_sync', changes };
  // The tool's own state says no (git: uncommitted changes, diverged history): a stop for a human.
  if (changes.blockers?.length) return { status: 'refused', error: changes.blockers.join('; '), changes };
  const refusal = guardChanges({ direction, mirror: pair.delete || direction === 'bisync', maxDelete: pair.maxDelete, changes });
  if (refusal) return { status: 'refused', error: refusal, changes };
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };

  // Nothing to send or delete: the transfer step does not run (issue 12). Its hooks, lock, state and
  // receipt behave as for any run, and verify still runs: a corruption the preview's quick check
  // misses is found there and repaired. A bisync's explicit --resync always runs: it rebuilds the
  // tool's own listings even when nothing differs.
  const resyncing = direction === 'bisync' && o.plan.resync;
  // git's preview counts commits, not LFS objects: a clone made without them still needs `git lfs pull`.
  const lfsFetch = pair.tool === 'git' && pair.lfs && direction !== 'push';
  if (pending === 0 && !resyncing && !lfsFetch) return afterTransfer(pair, adapter, o, ctx, show, { attempts: 1, changes, warnings: [], files: 0, bytes: 0 }, direction);

  if (direction === 'pull' && pair.backup && adapter.localBackup) {
    const kept = await backupLocal(pair.local, changes, o.plan.stamp);
    if (kept) o.emit({ kind: 'pair_step', pair: pair.name, step: `kept ${kept} local files in ${BACKUP_DIR}/${o.plan.stamp}` });
  }
  const transfer = adapter.transfer(pair, direction, o.plan, changes);
  show(transfer);
  o.emit({ kind: 'pair_step', pair: pair.name, step: direction === 'pull' ? 'pulling' : 'pushing' });
  const moved = await attempt(transfer, { ...ctx, progress: true, watchStall: true });
  if (moved.kind !== 'ok') return { ...stopped(moved), changes };
  const stats = await movedStats(adapter, pair, moved.outputs, changes);
  return afterTransfer(pair, adapter, o, ctx, show, { attempts: moved.attempts, changes, warnings: [...moved.warnings], ...stats }, direction);
}

interface Moved { attempts: number; changes: Changes; warnings: string[]; files: number; bytes: number }

/** A snapshot pair is read at `latest` (or --snapshot); any other pair as it is. */
async function snapshotRead(pair: ResolvedPair, ctx: AttemptContext, o: PairRunOptions, show: (c: readonly Command[]) => void): ReturnType<typeof snapshotSource> {
  if (!pair.snapshots) {
    if (o.plan.snapshot) return { stop: { status: 'refused', error: `--snapshot applies to pairs with snapshots:, and ${pair.name} has none` } };
    return { pair, name: '' };
  }
  // A snapshot is the whole tree: check and status count files only there as drift too. A pull deletes
  // local files only when the pair says delete.
  return snapshotSource(o.action === 'pull' ? pair : { ...pair, delete: true }, ctx, o.plan.snapshot, show);
}

/** How a transfer's result is compared; the pair's own verifier unless a caller knows better (snapshots). */
type Compare = () => Promise<VerifyResult | { stop: Body }>;

/** Verify (and repair once) what the transfer left, or what a run with nothing to send found. */
async function afterTransfer(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (list: readonly Command[]) => void, base: Moved, direction: Direction, compare?: Compare): Promise<Body> {
  if (!o.verify) return { status: 'ok', ...base };
  const check: Compare = compare ?? (() => verifyPair(adapter, pair, direction, ctx, o.plan));
  let verified = await check();
  if ('stop' in verified) return { ...base, ...verified.stop };
  // Files the transfer skipped as equal (same size and time) yet differing in content: send them
  // again comparing content, once, then verify again. Never reported as verified while they differ.
  if (verified.status === 'drift' && verified.changed.length && adapter.repair && direction !== 'bisync') {
    const changed = [...verified.changed];
    o.emit({ kind: 'pair_step', pair: pair.name, step: `repairing ${changed.length} changed file${changed.length === 1 ? '' : 's'}` });
    const repair = adapter.repair(pair, direction, changed, o.plan);
    show(repair);
    const fixed = await attempt(repair, { ...ctx, watchStall: true });
    if (fixed.kind !== 'ok') return { ...base, ...stopped(fixed) };
    verified = await check();
    if ('stop' in verified) return { ...base, ...verified.stop };
    if (verified.status === 'in_sync') base.warnings.push(`repaired ${changed.length} file${changed.length === 1 ? '' : 's'} that differed in content though size and time matched: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`);
  }
  base.warnings.push(...sayUnproven(verified, pair, o.emit));
  if (verified.status === 'drift') {
    return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(verified, pair, direction)}`, verify: verified, ...base };
  }
  return { status: 'ok', verify: verified, ...base };
}

/**
 * Where the tool cannot tell about a local destination (aws pull), labsync looks itself: how many
 * files are there (for the delete guard), and which transfers replace one (for the dry run's list).
 */
function withLocalDestination(changes: Changes, pair: ResolvedPair, adapter: Adapter): Changes {
  if (changes.destFiles !== undefined && (changes.replace !== undefined || !adapter.capabilities.copiesFiles)) return changes;
  const here = localFiles(pair);
  const paths = new Set(here.map((f) => f.path));
  return {
    ...changes,
    destFiles: changes.destFiles ?? here.length,
    ...(changes.replace === undefined && adapter.capabilities.copiesFiles ? { replace: changes.transfer.filter((p) => paths.has(p)) } : {}),
  };
}

export async function runPair(pair: ResolvedPair, o: PairRunOptions): Promise<PairResult> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  o.emit({ kind: 'pair_start', pair: { name: pair.name, category: pair.category, tool: pair.tool, action: o.action, source: pair.source } });
  const commands: string[] = [];
  const split = asShard(pair, o, directionOf(pair, o.action));
  o = split.o;
  const finish = (b: Body): PairResult => {
    const result: PairResult = {
      name: pair.name, category: pair.category, tool: pair.tool, action: o.action, startedAt,
      attempts: 0, files: 0, bytes: 0, error: null, verify: null, warnings: [],
      ...b, commands, durationMs: Date.now() - started,
      ...shardFacts(o.shardRun),
    };
    o.emit({ kind: 'pair_end', result });
    return result;
  };
  const adapter = adapterFor(pair.tool);
  // Never handed to a tool that would reject it mid-run: the version it needs, and how to get it.
  const tooOld = versionRefusal(pair, o.plan.toolVersions);
  if (tooOld) return finish({ status: 'refused', error: tooOld.error, hint: tooOld.hint });

  if (split.refused) return finish({ status: 'refused', error: split.refused });

  const readOnly = o.action === 'status' || o.action === 'check' || o.dryRun;
  let got: Awaited<ReturnType<typeof acquireLock>> | undefined;
  try {
    // Shards of one pair run at once by design (a Slurm array on one node): each takes its own lock,
    // so two copies of one shard still exclude each other while different slices never wait.
    got = readOnly ? undefined : await acquireLock(locksDir(pair.root), lockName(pair, o.shard), { waitMs: o.waitMs, command: o.command });
  } catch (error) {
    // No lock, no run: two unlocked runs of one pair could delete each other's files. The other pairs go on.
    // The fs error names the path it could not create.
    return finish({ status: 'failed', error: `could not take this pair's lock (${(error as Error).message}); nothing was run` });
  }
  mark('lock');
  if (got && 'heldBy' in got) {
    const h = got.heldBy;
    return finish({ status: 'locked', error: `locked by PID ${h.pid} on ${h.host} since ${h.startedAt} (${h.command})` });
  }
  if (got?.lock.tookOverFrom) {
    const t = got.lock.tookOverFrom;
    o.emit({ kind: 'warning', pair: pair.name, message: `took over a stale lock from PID ${t.pid} (started ${t.startedAt}), which is no longer running` });
  }
  try {
    // A check lists once (one connection); a push or pull lists, transfers and lists again over one shared connection.
    const run = (p: PairRunOptions) => (): Promise<Body> => p.action === 'check'
      ? withLocal(pair, adapter, p, readOnly, () => checkBody(pair, adapter, p, commands))
      : withSharedSsh(pair, p.redact, (shared) => withLocal(shared, adapter, p, readOnly, () => body(shared, adapter, p, commands)));
    if (readOnly) return finish(await run(o)());
    // Second, after the local lock (issue 16): another machine's run of this pair against the same remote.
    return finish(await underRemoteLock(pair, { ...o, pull: directionOf(pair, o.action) === 'pull', shard: Boolean(o.shard) }, (signal) => {
      const p = signal === o.signal ? o : { ...o, signal };
      return withHooks(pair, p, run(p));
    }));
  } catch (error) {
    if (error instanceof PairSetupError) return finish({ status: 'refused', error: error.message, ...(error.hint ? { hint: error.hint } : {}) });
    return finish({ status: 'failed', error: `internal error: ${(error as Error).message}` });
  } finally {
    await got?.lock.release();
    mark('lock released');
  }
}

/** The local folder checked (push) or made (pull) before any tool runs; see source.ts. */
async function withLocal(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, readOnly: boolean, run: () => Promise<Body>): Promise<Body> {
  const local = await prepareLocal(pair, directionOf(pair, o.action), o.action, { makes: adapter.capabilities.copiesFiles, changesNothing: readOnly });
  if ('refused' in local) return { status: 'refused', error: local.refused };
  if ('failed' in local) return { status: 'failed', error: local.failed };
  let body: Body | undefined;
  try {
    body = await run();
    return body;
  } finally {
    await local.undo(body === undefined || failedStatuses.has(body.status));
  }
}
