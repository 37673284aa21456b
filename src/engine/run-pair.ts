// One pair, start to end: lock → guards → preview → transfer → verify. Returns a PairResult, never throws.
import { adapterFor } from '../adapters/index.js';
import { storeLister } from '../adapters/files.js';
import { PairSetupError } from '../errors.js';
import type { Adapter, Command } from '../adapters/types.js';
import { formatCommand } from '../exec/format.js';
import { acquireLock, awaitNoRun, elsewhere, liveRunOf, type LockInfo } from '../state/lock.js';
import { readState } from '../state/store.js';
import { overlapOf } from './check-overlap.js';
import { nestedRefusal } from '../manifest/nested-pairs.js';
import { forgetRemoteCommit } from './receipt.js';
import { locksDir } from '../state/paths.js';
import type { Direction, ResolvedPair } from '../types.js';
import type { AttemptContext } from './attempt.js';
import { afterTransfer } from './after-transfer.js';
import { unplannable } from './plan-seam.js';
import { checkBody } from './check-pair.js';
import type { Body } from './outcome.js';
import type { PairResult } from './events.js';
import { directionOf, type PairRunOptions } from './pair-options.js';
import { plannedBody } from './plan-pair.js';
import { failedStatuses, withHooks } from './hooks.js';
import { previewBody } from './preview-pair.js';
import { prepareLocal } from './source.js';
import { planBody, plansItself } from './plan-run.js';
import { versionRefusal } from './versions.js';
import { withCompressChoice } from './compress-choice.js';
import { snapshotPush, snapshotRead, verifySnapshot } from './snapshots.js';
import { withSharedSsh } from './ssh-mux.js';
import { drainBody } from './drain-pair.js';
import { lockName } from './shard.js';
import { asShard, shardFacts } from './shard-plan.js';
import { underRemoteLock } from './remote-lock.js';
import { mark } from '../util/trace.js';
import { withAwsPartSize } from './aws-part-size.js';

/** An mlflow pair's unwritten `delete` follows the run's direction: `models pull` of a push pair deletes no local file. */
function deletesAsDirected(pair: ResolvedPair, o: PairRunOptions): ResolvedPair {
  if (!pair.deleteByDefault) return pair;
  const push = directionOf(pair, o.action) === 'push';
  return pair.delete === push ? pair : { ...pair, delete: push };
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
    // A new dated folder each run: no saved plan holds for it (plan --save refuses it up front; a plan made by hand is refused here).
    if (o.seam) return unplannable(pair, o.seam);
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
  return previewBody(pair, adapter, o, direction, ctx, show);
}

/** A pair whose turn came after the run was stopped: `skipped`, and the run as a whole interrupted (exit 130, not ok). */
export const NOT_STARTED = 'not started: the run was stopped before this pair\'s turn';
export const stoppedBefore = (results: readonly PairResult[]): boolean => results.some((r) => r.status === 'skipped' && r.error === NOT_STARTED);

export async function runPair(inManifest: ResolvedPair, o: PairRunOptions): Promise<PairResult> {
  const pair = deletesAsDirected(withAwsPartSize(inManifest, process.env), o);
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
  // Its turn came after Ctrl-C/SIGTERM: never started (no lock, hook or ping: a dead-man's switch had
  // been told of a failure of a pair that never ran, review 42), and not recorded as a run.
  if (o.signal.aborted) return finish({ status: 'skipped', error: NOT_STARTED });
  const adapter = adapterFor(pair.tool);
  // Never handed to a tool that would reject it mid-run: the version it needs, and how to get it.
  const tooOld = versionRefusal(pair, o.plan.toolVersions);
  if (tooOld) return finish({ status: 'refused', error: tooOld.error, hint: tooOld.hint });

  if (split.refused) return finish({ status: 'refused', error: split.refused });
  // A mirror pull deletes in this folder: never in another pair's (manifest/nested-pairs.ts). A dry run
  // and a saved plan are refused alike, as the other guards refuse them: they predict the run.
  if (pair.nestedPairs?.length && pair.delete && o.action !== 'check' && o.action !== 'status' && directionOf(pair, o.action) === 'pull') return finish({ status: 'refused', error: nestedRefusal(pair.nestedPairs) });

  const readOnly = o.action === 'status' || o.action === 'check' || o.dryRun;
  // A check while a push or pull of this pair moves its files would call the half-made copy drift
  // (exit 4 from cron for a transfer going well): it waits for that run (--wait) or says it is under way.
  // A shard's check answers for its slice: only the whole pair's run or its own shard's stands in its way.
  const runLocks = o.shard ? [pair.name, lockName(pair, o.shard)] : undefined;
  if (o.action === 'check') {
    const busy = await awaitNoRun(locksDir(pair.root), pair.name, o.waitMs ?? 0, o.signal, runLocks);
    if (busy) return finish({ status: 'locked', error: `a run of this pair is under way: ${heldText(busy, pair.name)}; check it once that run has ended (or with --wait SECONDS)` });
  }
  // From here: a run waited for above ended before this check looked.
  const checkedFrom = Date.now();
  // A commit an earlier run of this pair saw or made (watch runs many in one process) is not this run's.
  forgetRemoteCommit(pair);
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
    return finish({ status: 'locked', error: `locked by ${heldText(got.heldBy, pair.name)}` });
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
    if (readOnly) {
      const b = await run(o)();
      return finish(o.action === 'check' && b.status === 'drift' ? await ranMeanwhile(pair, checkedFrom, b, runLocks) : b);
    }
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

/** Who holds a lock, for its message. Another host's or PID namespace's is never judged here: say how to end it once its run is over. */
function heldText(h: LockInfo, name: string): string {
  const silence = h.silentMs ? `; it is taken over once untouched for ${Math.round(h.silentMs / 60_000)} minutes` : '';
  const unjudged = elsewhere(h) ? ` (another machine or container: labsync cannot tell whether it still runs${silence}; once it has stopped, \`labsync unlock ${name}\` removes the lock)` : '';
  return `PID ${h.pid} on ${h.host}${unjudged} since ${h.startedAt} (${h.command})`;
}

/** A check's drift when a run of the pair overlapped it: `locked` (check-overlap.ts says why). */
async function ranMeanwhile(pair: ResolvedPair, from: number, b: Body, runLocks?: readonly string[]): Promise<Body> {
  const live = liveRunOf(locksDir(pair.root), pair.name, runLocks);
  const why = overlapOf(live, (await readState(pair.root)).pairs[pair.name], from, Date.now());
  if (!why) return b;
  const which = why === 'began' && live ? `a run of this pair began while it was checked: ${heldText(live, pair.name)}` : why;
  return { ...b, status: 'locked', error: `${which}; what differed may be that run's transfer, so it is not called drift: check again once no run of the pair is under way` };
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
