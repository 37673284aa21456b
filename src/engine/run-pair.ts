// One pair, start to end: lock → guards → preview → transfer → verify. Returns a PairResult, never throws.
import { adapterFor } from '../adapters/index.js';
import { join } from 'node:path';
import type { Adapter, Changes, Command, PlanContext, Probe, VerifyReport } from '../adapters/types.js';
import { compareEntries } from '../verify/compare.js';
import { digestFile } from '../verify/etag.js';
import { walkFiles } from '../verify/walk.js';
import { backupLocal, BACKUP_DIR } from './local-backup.js';
import { mapPool } from './pool.js';
import { formatCommand } from '../exec/format.js';
import type { Redactor } from '../exec/redact.js';
import { acquireLock } from '../state/lock.js';
import { locksDir } from '../state/paths.js';
import type { Action, Direction, PairStatus, ResolvedPair } from '../types.js';
import { attempt, type Attempted, type AttemptContext } from './attempt.js';
import type { Emit, PairResult, VerifyResult } from './events.js';
import { guardChanges } from './guards.js';
import { localSourceState } from './source.js';

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

type Body = Partial<Omit<PairResult, 'name' | 'category' | 'tool' | 'action' | 'startedAt' | 'durationMs'>> & { status: PairStatus };

export function directionOf(pair: ResolvedPair, action: Action): Direction {
  return action === 'push' || action === 'pull' ? action : pair.mode;
}

/** A run of commands that did not succeed, as a pair result: a safety stop is `refused` (exit 3), not `failed`. */
function stopped(done: Exclude<Attempted, { kind: 'ok' }>): Body {
  if (done.kind === 'interrupted') return { status: 'interrupted', error: 'interrupted', attempts: done.attempts };
  const { outcome } = done;
  const fatal = outcome.kind === 'fatal' ? outcome : undefined;
  return {
    status: fatal?.safety ? 'refused' : 'failed',
    error: `${outcome.reason} — ${done.command}`,
    ...(fatal?.hint ? { hint: fatal.hint } : {}),
    attempts: done.attempts,
  };
}

async function probe<T>(p: Probe<T>, ctx: AttemptContext): Promise<{ value: T } | { stop: Body }> {
  const done = await attempt(p.commands, ctx);
  if (done.kind !== 'ok') return { stop: stopped(done) };
  try {
    return { value: p.parse(done.outputs) };
  } catch (error) {
    return { stop: { status: 'failed', error: `cannot read ${ctx.adapter.tool}'s output: ${(error as Error).message}` } };
  }
}

/** The pair's local files as every tool sees them: excludes applied, labsync's backup folder left out. */
const localFiles = (pair: ResolvedPair) => walkFiles(pair.local, [...pair.exclude, `/${BACKUP_DIR}/`]);

/** The tool's own comparison where it has one, else the remote's listing against local hashes. */
async function compare(adapter: Adapter, pair: ResolvedPair, mode: 'checksum' | 'size', ctx: AttemptContext, plan: PlanContext): Promise<{ value: VerifyReport } | { stop: Body } | undefined> {
  if (adapter.verify) return probe(adapter.verify(pair, mode, plan), ctx);
  if (!adapter.listRemote) return undefined;
  const remote = await probe(adapter.listRemote(pair), ctx);
  if ('stop' in remote) return remote;
  const partSize = pair.remote.type === 's3' ? pair.remote.partSize : undefined;
  const files = await localFiles(pair);
  const local = await mapPool(files, 4, async (f) => ({ path: f.path, size: f.size, ...(mode === 'checksum' ? await digestFile(join(pair.local, f.path), partSize) : {}) }));
  return { value: compareEntries(local, remote.value, mode) };
}

async function verifyPair(adapter: Adapter, pair: ResolvedPair, ctx: AttemptContext, plan: PlanContext): Promise<VerifyResult | { stop: Body }> {
  const mode = pair.verify === 'none' ? undefined : pair.verify;
  const skipped: VerifyResult = { status: 'skipped', checked: 0, missing: [], extra: [], changed: [] };
  if (!mode) return skipped;
  ctx.emit({ kind: 'pair_step', pair: pair.name, step: `verifying (${mode})` });
  const got = await compare(adapter, pair, mode, { ...ctx, progress: false }, plan);
  if (!got) return skipped;
  if ('stop' in got) return got;
  const r = got.value;
  // A copy (no delete) may leave the destination holding more than the source — a file put there by
  // hand, or the temp file of an rsync that was SIGKILLed; only a mirror promises no extras.
  const drift = r.missing.length + r.changed.length + (pair.delete ? r.extra.length : 0) > 0;
  return { ...r, status: drift ? 'drift' : 'in_sync', mode };
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

  const preview = adapter.preview(pair, direction, o.plan);
  show(preview.commands);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const looked = await probe<Changes>(preview, ctx);
  if ('stop' in looked) return looked.stop;
  // Where the tool cannot count a local destination (aws pull), count it here for the delete guard.
  const changes = looked.value.destFiles === undefined && direction === 'pull'
    ? { ...looked.value, destFiles: (await localFiles(pair)).length }
    : looked.value;
  const pending = changes.transfer.length + changes.delete.length;

  if (o.action === 'status') return { status: pending ? 'drift' : 'in_sync', changes };
  const refusal = guardChanges({ direction, mirror: pair.delete || direction === 'bisync', maxDelete: pair.maxDelete, changes });
  if (refusal) return { status: 'refused', error: refusal, changes };
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };

  if (direction === 'pull' && pair.backup && adapter.localBackup) {
    const kept = await backupLocal(pair.local, changes, o.plan.stamp);
    if (kept) o.emit({ kind: 'pair_step', pair: pair.name, step: `kept ${kept} local files in ${BACKUP_DIR}/${o.plan.stamp}` });
  }
  const transfer = adapter.transfer(pair, direction, o.plan, changes);
  show(transfer);
  o.emit({ kind: 'pair_step', pair: pair.name, step: direction === 'pull' ? 'pulling' : 'pushing' });
  const moved = await attempt(transfer, { ...ctx, progress: true });
  if (moved.kind !== 'ok') return { ...stopped(moved), changes };
  const stats = moved.outputs.reduce(
    (acc, out) => {
      const s = adapter.parseStats?.(out);
      return s ? { files: acc.files + s.files, bytes: acc.bytes + s.bytes } : acc;
    },
    { files: 0, bytes: 0 },
  );
  const base = { attempts: moved.attempts, changes, warnings: moved.warnings, ...stats };
  if (!o.verify) return { status: 'ok', ...base };
  const verified = await verifyPair(adapter, pair, ctx, o.plan);
  if ('stop' in verified) return { ...base, ...verified.stop };
  if (verified.status === 'drift') {
    const parts = [
      verified.missing.length ? `${verified.missing.length} missing` : '',
      verified.changed.length ? `${verified.changed.length} changed` : '',
      pair.delete && verified.extra.length ? `${verified.extra.length} extra` : '',
    ].filter(Boolean);
    const first = [...verified.changed, ...verified.missing, ...(pair.delete ? verified.extra : [])].slice(0, 3).join(', ');
    return { status: 'drift', error: `verify found the destination differs after the transfer: ${parts.join(', ')} (${first})`, verify: verified, ...base };
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
  if (!adapter) return finish({ status: 'failed', error: `no adapter for ${pair.tool}` });

  const readOnly = o.action === 'status' || o.dryRun;
  const got = readOnly ? undefined : await acquireLock(locksDir(pair.root), pair.name, { waitMs: o.waitMs, command: o.command });
  if (got && 'heldBy' in got) {
    const h = got.heldBy;
    return finish({ status: 'locked', error: `locked by PID ${h.pid} on ${h.host} since ${h.startedAt} (${h.command})` });
  }
  if (got?.lock.tookOverFrom) {
    const t = got.lock.tookOverFrom;
    o.emit({ kind: 'warning', pair: pair.name, message: `took over a stale lock from PID ${t.pid} (started ${t.startedAt}), which is no longer running` });
  }
  try {
    return finish(await body(pair, adapter, o, commands));
  } catch (error) {
    return finish({ status: 'failed', error: `internal error: ${(error as Error).message}` });
  } finally {
    await got?.lock.release();
  }
}
