// `labsync drain`: push a pair's planned files newest first until the budget's deadline, stop the tool
// cleanly before it, and write the pair's marker only when everything was sent and verified (issue 16).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Adapter, Command, Lister } from '../adapters/types.js';
import { storeLister } from '../adapters/files.js';
import { drains } from '../manifest/rules.js';
import { filesPlan, needsContentCompare, changesOf } from '../plan/changes.js';
import type { ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { describeDrift, driftOf } from './compare-pair.js';
import { batches, MAX_BATCH, newestFirst } from './drain-order.js';
import { guardChanges } from './guards.js';
import { stopped, type Body } from './outcome.js';
import { drainPlanned } from './drain-planned.js';
import { listBoth, planOf, plansItself, verifyListed } from './plan-run.js';
import type { DrainOptions, PairRunOptions } from './pair-options.js';

// run.ts names the options by this module.
export type { DrainOptions } from './pair-options.js';

/**
 * Why a pair cannot be drained, or undefined. rsync moves an explicit file list in order and stops
 * cleanly on SIGTERM (its temp file removed); aws and rclone move a planned list to S3, where an
 * object appears only whole. The other tools have no such list here yet.
 */
export function drainRefusal(pair: ResolvedPair, adapter: Adapter): string | undefined {
  if (pair.snapshots) return 'a snapshots: pair is pushed whole into a new snapshot; drain does not apply';
  const s3 = pair.remote.type === 's3' && Boolean(storeLister(adapter, pair, 'push')) && process.env.LABSYNC_PLAN !== '0';
  if (!drains(pair.tool, pair.remote.type, pair.mode) || !(s3 || plansItself(pair, adapter))) {
    return `drain pushes rsync pairs to a local or ssh remote, and aws or rclone pairs to an s3 remote, newest files first (this pair: ${pair.tool} ${pair.mode} to a ${pair.remote.type} remote)`;
  }
  return undefined;
}

export async function drainBody(asWritten: ResolvedPair, adapter: Adapter, o: PairRunOptions, drain: DrainOptions, ctx: AttemptContext, show: (c: readonly (Command | string)[]) => void): Promise<Body> {
  const refusal = drainRefusal(asWritten, adapter);
  if (refusal) return { status: 'refused', error: refusal };
  // Not AbortSignal.any with AbortSignal.timeout: node holds the timeout signal only weakly there, and
  // once collected it never fires (seen: a 6 s budget ran its 12 s drain to the end).
  const budget = new AbortController();
  const end = new AbortController();
  const stop = (): void => budget.abort();
  const stopAll = (): void => {
    budget.abort();
    end.abort();
  };
  const timers = [setTimeout(stop, Math.max(0, drain.deadline - Date.now())), setTimeout(stopAll, Math.max(0, drain.end - Date.now()))];
  o.signal.addEventListener('abort', stopAll, { once: true });
  try {
    return await drainWithin(asWritten, adapter, o, budget.signal, { ...ctx, signal: end.signal }, show);
  } finally {
    for (const t of timers) clearTimeout(t);
    o.signal.removeEventListener('abort', stopAll);
  }
}

/** `budget` stops the transfers at the deadline; `last` (ctx.signal) the steps after them at the budget's end. */
async function drainWithin(asWritten: ResolvedPair, adapter: Adapter, o: PairRunOptions, budget: AbortSignal, last: AttemptContext, show: (c: readonly (Command | string)[]) => void): Promise<Body> {
  const ctx = last;
  const lister = s3Lister(asWritten, adapter);
  if (lister) return drainPlanned(asWritten, adapter, lister, o, budget, last, show, (stop, left, step, moved) => overBudget(stop, o, left, step, moved), leftMessage);
  // Deletions never run in a drain: under a deadline they save nothing, and extras are not what is at risk.
  const pair: ResolvedPair = { ...asWritten, delete: false };
  const inBudget: AttemptContext = { ...ctx, pair, signal: budget };
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'listing' });
  const listed = await listBoth(pair, inBudget);
  if ('unsupported' in listed) return { status: 'refused', error: `drain cannot list this pair: ${listed.unsupported}` };
  if ('stop' in listed) return overBudget(listed.stop, o, [], 'listing');
  const plan = planOf(pair, 'push', listed.local, listed.remote);
  const changes = changesOf(plan);
  const guard = guardChanges({ direction: 'push', mirror: false, maxDelete: pair.maxDelete, changes });
  if (guard) return { status: 'refused', error: guard, changes };
  const mtimes = new Map<string, number>();
  listed.local.paths.forEach((p, i) => mtimes.set(p, listed.local.keys[i * 4 + 1] as number));
  const order = newestFirst(changes.transfer, (p) => mtimes.get(p) ?? 0);
  if (o.dryRun) return { status: 'planned', changes: { ...changes, transfer: order } };

  // The marker goes first: from here until it is written again the destination is not known whole,
  // and a host that dies mid-drain must not leave an earlier run's marker claiming it is.
  // A destination not made yet holds no marker (and rsync could not delete in it).
  if (pair.drainMarker && !listed.remote.missing) {
    const removed = await removeMarker(asWritten, pair.drainMarker, adapter, o, ctx, show);
    if (removed) return overBudget(removed, o, order, 'removal of the old marker');
  }
  const moved = { attempts: 1, files: 0, bytes: 0, warnings: [] as string[] };
  const left = [...order];
  for (const batch of batches(order, MAX_BATCH)) {
    if (budget.aborted) break;
    o.emit({ kind: 'pair_step', pair: pair.name, step: `pushing ${order.length - left.length + 1}–${order.length - left.length + batch.length} of ${order.length}, newest first` });
    // Each batch in its newest-first order, compared by content when any of the whole plan is (as one call would be).
    const commands = adapter.files?.transfer(pair, 'push', filesPlan(batch, needsContentCompare(plan) ? 'content' : 'missing'), o.plan, { whole: true }).send ?? [];
    show(commands);
    let done = await attempt(commands, { ...inBudget, progress: true, watchStall: true });
    // The host's SIGTERM reaches the tool too where a whole unit is signalled (systemd, Slurm): labsync
    // endures it (commands/drain.ts), and a batch it stopped is sent again while the budget lasts.
    for (let again = 0; again < 2 && done.kind === 'failed' && /interrupted/.test(done.outcome.reason) && !budget.aborted && !o.signal.aborted; again++) {
      done = await attempt(commands, { ...inBudget, progress: true, watchStall: true });
    }
    if (done.kind === 'interrupted') {
      await removeTemps(pair, batch);
      // rsync wrote some of the batch before it was stopped: what is at the destination whole is not left.
      const sent = new Set(await arrived(pair, { ...last, pair }, batch));
      left.splice(0, left.length, ...left.filter((p) => !sent.has(p)));
      moved.files += sent.size; // their bytes are not told: rsync's stats are printed at its end
      break;
    }
    if (done.kind !== 'ok') return { ...stopped(done), ...moved, changes, left };
    moved.attempts = Math.max(moved.attempts, done.attempts);
    moved.warnings.push(...done.warnings);
    for (const out of done.outputs) {
      const s = adapter.parseStats?.(out);
      moved.files += s?.files ?? 0;
      moved.bytes += s?.bytes ?? 0;
    }
    left.splice(0, batch.length);
  }
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', ...moved, changes, left };
  if (left.length) return { status: 'partial', error: leftMessage(left, order.length), ...moved, changes, left };

  // Everything planned was sent: the marker only after the verify agrees.
  const relisted = await listBoth(pair, inBudget);
  if ('unsupported' in relisted) return { status: 'refused', error: `drain cannot list this pair: ${relisted.unsupported}`, ...moved, changes };
  if ('stop' in relisted) return overBudget(relisted.stop, o, [], 'verify', moved);
  const mode = pair.verify === 'size' ? 'size' : 'checksum';
  const verified = await verifyListed(pair, 'push', relisted.local, relisted.remote, mode, false, inBudget);
  if (!verified) return { status: 'refused', error: 'drain cannot verify this pair by its listings', ...moved, changes };
  if ('stop' in verified) return overBudget(verified.stop, o, [], 'verify', moved);
  const d = driftOf(verified, pair, 'push');
  if (d.missing.length || d.changed.length) {
    return { status: 'drift', error: `verify found the destination differs after the drain: ${describeDrift(verified, pair, 'push')}; no marker written`, verify: verified, ...moved, changes };
  }
  // A mirror's deletions wait for its next push: said, so a marker is not read as "the two sides are equal".
  if (asWritten.delete && verified.extra.length) {
    const shown = verified.extra.slice(0, 3).join(', ');
    moved.warnings.push(`${verified.extra.length} file${verified.extra.length === 1 ? '' : 's'} only at the destination (${shown}${verified.extra.length > 3 ? ', …' : ''}): a drain deletes nothing; the pair's next push does`);
  }
  if (pair.drainMarker) {
    const written = await writeMarker(asWritten, pair.drainMarker, relisted.local.paths.length, adapter, o, ctx, show);
    if (written) return { ...overBudget(written, o, [], 'marker write', moved), verify: verified, changes };
  }
  return { status: 'ok', verify: verified, ...moved, changes };
}

/** aws and rclone pairs to S3 are drained through their planned transfers (drain-planned.ts). */
function s3Lister(pair: ResolvedPair, adapter: Adapter): Lister | undefined {
  return pair.remote.type === 's3' ? storeLister(adapter, pair, 'push') : undefined;
}

function leftMessage(left: readonly string[], planned: number): string {
  const shown = left.slice(0, 3).join(', ');
  return `the budget ended with ${left.length} of ${planned} planned file${planned === 1 ? '' : 's'} not sent: ${shown}${left.length > 3 ? ` and ${left.length - 3} more` : ''}`;
}

/** A step stopped by the budget (not by the user, not by a failure) makes the pair partial. */
function overBudget(stop: Body, o: PairRunOptions, left: readonly string[], step: string, moved?: object): Body {
  if (stop.status !== 'interrupted' || o.signal.aborted) return { ...moved, ...stop };
  return { ...moved, status: 'partial', error: `the budget ended during the ${step}; no marker written`, left };
}

/**
 * Which of `paths` are at the destination now, complete (same size and mtime as here). Listed after the
 * transfers' deadline, until the budget's end; a listing that does not finish counts none as arrived.
 */
async function arrived(pair: ResolvedPair, ctx: AttemptContext, paths: readonly string[]): Promise<string[]> {
  const listed = await listBoth(pair, ctx);
  if (!('local' in listed)) return [];
  const plan = planOf(pair, 'push', listed.local, listed.remote);
  const still = new Set(changesOf(plan).transfer);
  return paths.filter((p) => !still.has(p));
}

/**
 * rsync removes the temp file of the file it is stopped in on SIGTERM; one killed outright (SIGKILL
 * after the grace) leaves `.name.XXXXXX` beside it. On a local remote labsync removes those itself.
 */
async function removeTemps(pair: ResolvedPair, batch: readonly string[]): Promise<void> {
  if (pair.remote.type !== 'local') return;
  const root = pair.remote.path;
  for (const path of batch) {
    const dir = join(root, dirname(path));
    const temp = new RegExp(`^\\.${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[A-Za-z0-9]{6}$`);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => temp.test(n))) await rm(join(dir, name), { force: true });
  }
}

/** The marker deleted at the destination (rsync --delete-missing-args: it is not in the local folder). */
async function removeMarker(pair: ResolvedPair, marker: string, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (c: readonly Command[]) => void): Promise<Body | undefined> {
  // The pair's own exclude hides the marker from every run, deletions included: not this one.
  const bare: ResolvedPair = { ...pair, exclude: pair.exclude.filter((e) => e !== `/${marker}`) };
  const commands = adapter.files?.transfer(bare, 'push', filesPlan([], 'missing', [marker]), o.plan).delete ?? [];
  show(commands);
  const done = await attempt(commands, { ...ctx, pair: bare });
  return done.kind === 'ok' ? undefined : { ...stopped(done), error: `could not remove the old ${marker} marker before the drain: ${stopped(done).error ?? ''}` };
}

/** The marker written at the destination's top, by the tool (a temp file renamed into place). */
async function writeMarker(pair: ResolvedPair, marker: string, files: number, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (c: readonly Command[]) => void): Promise<Body | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'labsync-marker-'));
  try {
    await writeFile(join(dir, marker), `${JSON.stringify({ pair: pair.name, completedAt: new Date().toISOString(), host: hostname(), files })}\n`);
    const from: ResolvedPair = { ...pair, local: dir, exclude: [], delete: false, backup: false };
    const { bwlimit: _slow, compress: _zip, ...plain } = from;
    const commands = adapter.files?.transfer(plain, 'push', filesPlan([marker], 'content'), o.plan, { whole: true }).send ?? [];
    show(commands);
    const done = await attempt(commands, { ...ctx, pair: plain });
    return done.kind === 'ok' ? undefined : { ...stopped(done), error: `everything was sent and verified, but the ${marker} marker could not be written: ${stopped(done).error ?? ''}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
