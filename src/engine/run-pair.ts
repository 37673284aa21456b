// One pair, start to end: lock → guards → preview → transfer → verify. Returns a PairResult, never throws.
import { adapterFor } from '../adapters/index.js';
import { PairSetupError } from '../errors.js';
import type { Adapter, Changes, Command, PlanContext } from '../adapters/types.js';
import { backupLocal, BACKUP_DIR } from './local-backup.js';
import { formatCommand } from '../exec/format.js';
import type { Redactor } from '../exec/redact.js';
import { acquireLock } from '../state/lock.js';
import { locksDir } from '../state/paths.js';
import type { Action, Direction, ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { describeDrift, localFiles, verifyPair } from './compare-pair.js';
import { probe, stopped, type Body } from './outcome.js';
import type { Emit, PairResult } from './events.js';
import { guardChanges } from './guards.js';
import { failedStatuses, ping, runHook } from './hooks.js';
import { localSourceState } from './source.js';
import { listBoth, planBody, plansItself, verifyListed } from './plan-run.js';
import { fullCheckDue } from './full-check.js';
import type { VerifyResult } from './events.js';

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
}

export function directionOf(pair: ResolvedPair, action: Action): Direction {
  return action === 'push' || action === 'pull' ? action : pair.mode;
}

/** `labsync check`: only the comparison (SPEC §6). A pair with verify: none is still checked, by checksum. */
async function checkBody(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions): Promise<Body> {
  const direction = directionOf(pair, 'check');
  const checked = { ...pair, verify: pair.verify === 'size' ? ('size' as const) : ('checksum' as const) };
  const ctx: AttemptContext = { adapter, pair: checked, emit: o.emit, redact: o.redact, signal: o.signal, progress: false };
  const v = (await checkListed(checked, adapter, direction, ctx, o)) ?? (await verifyPair(adapter, checked, direction, ctx, o.plan));
  if ('stop' in v) return v.stop;
  if (v.status === 'skipped') return { status: 'skipped', error: `${pair.tool} cannot compare this remote without downloading it` };
  return v.status === 'drift'
    ? { status: 'drift', error: `differs: ${describeDrift(v, checked, direction)}`, verify: v }
    : { status: 'in_sync', verify: v };
}

/** Both sides listed once and compared through their hash caches; undefined where the tool's own comparison must answer. */
async function checkListed(pair: ResolvedPair, adapter: Adapter, direction: Direction, ctx: AttemptContext, o: PairRunOptions): Promise<VerifyResult | { stop: Body } | undefined> {
  // Local folders keep their tree summaries (tree-summary.ts): an unchanged local pair is answered
  // without loading either cache, cheaper still than two listings.
  if ((direction !== 'push' && direction !== 'pull') || pair.remote.type !== 'ssh' || !plansItself(pair, adapter) || pair.verify === 'none') return undefined;
  const listed = await listBoth(pair, ctx);
  if ('unsupported' in listed) return undefined;
  if ('stop' in listed) return listed;
  return verifyListed(pair, direction, listed.local, listed.remote, pair.verify, fullCheckDue(pair, o.plan.full), ctx);
}

async function body(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, commands: string[]): Promise<Body> {
  const direction = directionOf(pair, o.action);
  const ctx: AttemptContext = { adapter, pair, emit: o.emit, redact: o.redact, signal: o.signal, progress: false };
  const show = (list: readonly Command[]): void => void commands.push(...list.map((c) => formatCommand(c, o.redact)));

  // bisync propagates deletions both ways: an empty local folder is as dangerous as for a push.
  if ((direction === 'push' || direction === 'bisync') && o.action !== 'status') {
    const state = await localSourceState(pair.local);
    if (state !== 'ok') {
      const why = { missing: 'does not exist', 'not-a-folder': 'is not a folder', empty: 'is empty' }[state];
      const verb = direction === 'bisync' ? 'bisync' : pair.delete ? 'mirror' : 'push';
      return { status: 'refused', error: `the source ${pair.local} ${why}; refusing to ${verb} it` };
    }
  }

  if ((direction === 'push' || direction === 'pull') && plansItself(pair, adapter)) {
    const planned = await planBody(pair, adapter, o, direction, ctx, show);
    if (planned) return planned;
  }

  const preview = adapter.preview(pair, direction, o.plan);
  show(preview.commands);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const looked = await probe<Changes>(preview, ctx);
  if ('stop' in looked) return looked.stop;
  // Where the tool cannot count a local destination (aws pull), count it here for the delete guard.
  const changes = looked.value.destFiles === undefined && direction === 'pull'
    ? { ...looked.value, destFiles: localFiles(pair).length }
    : looked.value;
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
  const moved = await attempt(transfer, { ...ctx, progress: true });
  if (moved.kind !== 'ok') return { ...stopped(moved), changes };
  // Tools that print no transfer stats (git, dvc): count what the preview said would move (commits, objects).
  const stats = adapter.parseStats
    ? moved.outputs.reduce(
        (acc, out) => {
          const s = adapter.parseStats?.(out);
          return s ? { files: acc.files + s.files, bytes: acc.bytes + s.bytes } : acc;
        },
        { files: 0, bytes: 0 },
      )
    : { files: changes.transfer.filter((t) => !t.startsWith('(')).length, bytes: 0 };
  return afterTransfer(pair, adapter, o, ctx, show, { attempts: moved.attempts, changes, warnings: [...moved.warnings], ...stats }, direction);
}

interface Moved { attempts: number; changes: Changes; warnings: string[]; files: number; bytes: number }

/** Verify (and repair once) what the transfer left, or what a run with nothing to send found. */
async function afterTransfer(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (list: readonly Command[]) => void, base: Moved, direction: Direction): Promise<Body> {
  if (!o.verify) return { status: 'ok', ...base };
  let verified = await verifyPair(adapter, pair, direction, ctx, o.plan);
  if ('stop' in verified) return { ...base, ...verified.stop };
  // Files the transfer skipped as equal (same size and time) yet differing in content: send them
  // again comparing content, once, then verify again. Never reported as verified while they differ.
  if (verified.status === 'drift' && verified.changed.length && adapter.repair && direction !== 'bisync') {
    const changed = [...verified.changed];
    o.emit({ kind: 'pair_step', pair: pair.name, step: `repairing ${changed.length} changed file${changed.length === 1 ? '' : 's'}` });
    const repair = adapter.repair(pair, direction, changed, o.plan);
    show(repair);
    const fixed = await attempt(repair, ctx);
    if (fixed.kind !== 'ok') return { ...base, ...stopped(fixed) };
    verified = await verifyPair(adapter, pair, direction, ctx, o.plan);
    if ('stop' in verified) return { ...base, ...verified.stop };
    if (verified.status === 'in_sync') base.warnings.push(`repaired ${changed.length} file${changed.length === 1 ? '' : 's'} that differed in content though size and time matched: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`);
  }
  if (verified.status === 'drift') {
    return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(verified, pair, direction)}`, verify: verified, ...base };
  }
  return { status: 'ok', verify: verified, ...base };
}

export async function runPair(pair: ResolvedPair, o: PairRunOptions): Promise<PairResult> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  o.emit({ kind: 'pair_start', pair: { name: pair.name, category: pair.category, tool: pair.tool, action: o.action } });
  const commands: string[] = [];
  const finish = (b: Body): PairResult => {
    const result: PairResult = {
      name: pair.name, category: pair.category, tool: pair.tool, action: o.action, startedAt,
      attempts: 0, files: 0, bytes: 0, error: null, verify: null, warnings: [],
      ...b, commands, durationMs: Date.now() - started,
    };
    o.emit({ kind: 'pair_end', result });
    return result;
  };
  const adapter = adapterFor(pair.tool);

  const readOnly = o.action === 'status' || o.action === 'check' || o.dryRun;
  let got: Awaited<ReturnType<typeof acquireLock>> | undefined;
  try {
    got = readOnly ? undefined : await acquireLock(locksDir(pair.root), pair.name, { waitMs: o.waitMs, command: o.command });
  } catch (error) {
    // No lock, no run: two unlocked runs of one pair could delete each other's files. The other pairs go on.
    // The fs error names the path it could not create.
    return finish({ status: 'failed', error: `could not take this pair's lock (${(error as Error).message}); nothing was run` });
  }
  if (got && 'heldBy' in got) {
    const h = got.heldBy;
    return finish({ status: 'locked', error: `locked by PID ${h.pid} on ${h.host} since ${h.startedAt} (${h.command})` });
  }
  if (got?.lock.tookOverFrom) {
    const t = got.lock.tookOverFrom;
    o.emit({ kind: 'warning', pair: pair.name, message: `took over a stale lock from PID ${t.pid} (started ${t.startedAt}), which is no longer running` });
  }
  try {
    if (readOnly) return finish(await (o.action === 'check' ? checkBody(pair, adapter, o) : body(pair, adapter, o, commands)));
    return finish(await withHooks(pair, o, () => body(pair, adapter, o, commands)));
  } catch (error) {
    if (error instanceof PairSetupError) return finish({ status: 'refused', error: error.message, ...(error.hint ? { hint: error.hint } : {}) });
    return finish({ status: 'failed', error: `internal error: ${(error as Error).message}` });
  } finally {
    await got?.lock.release();
  }
}

/** A real run wrapped in its pings and hooks: a failing `before` hook skips the pair; the others only warn. */
async function withHooks(pair: ResolvedPair, o: PairRunOptions, run: () => Promise<Body>): Promise<Body> {
  const pings: Promise<void>[] = [];
  if (pair.notify.start) pings.push(ping(pair.notify.start, o.emit, pair.name));
  const before = pair.hooks.before
    ? await runHook('before', pair.hooks.before, pair, { status: 'running', files: 0, bytes: 0, action: o.action }, o.redact, o.signal)
    : undefined;
  const b: Body = before ? { status: 'failed', error: `${before}; the pair was skipped` } : await run();
  const facts = { status: b.status, files: b.files ?? 0, bytes: b.bytes ?? 0, error: b.error ?? null, action: o.action };
  const ok = b.status === 'ok' || b.status === 'in_sync';
  const warnings = [...(b.warnings ?? [])];
  const after = ok ? pair.hooks.after : failedStatuses.has(b.status) ? pair.hooks.onFailure : undefined;
  if (after && !o.signal.aborted) {
    const problem = await runHook(ok ? 'after' : 'on_failure', after, pair, facts, o.redact, o.signal);
    if (problem) warnings.push(problem);
  }
  const url = ok ? pair.notify.success : failedStatuses.has(b.status) ? pair.notify.failure : undefined;
  if (url) pings.push(ping(url, o.emit, pair.name));
  await Promise.all(pings);
  return { ...b, warnings };
}
