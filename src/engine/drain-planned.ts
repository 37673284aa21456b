// `labsync drain` for pairs whose adapter lists the remote and moves a plan (aws and rclone to S3):
// the same newest-first batches as rsync's drain (drain-pair.ts), each handed to the adapter's own
// files.transfer. An S3 object appears only when its PUT (or a multipart upload's completion) succeeds,
// so a tool killed at the deadline leaves no half object: an unfinished multipart upload is invisible.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter, Command, Lister } from '../adapters/types.js';
import { changesOf } from '../plan/changes.js';
import { computePlan, opaqueEtagsOf } from '../plan/compute.js';
import type { Listing, PairPlan, PlannedFile } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { compareListed, describeDrift, driftOf, sayUnproven } from './compare-pair.js';
import { batches, MAX_BATCH, newestFirst } from './drain-order.js';
import { guardChanges } from './guards.js';
import { localListing, remoteListing, withBlobIds } from './listings.js';
import { stopped, type Body } from './outcome.js';
import { stageLinks } from './plan-pair.js';
import type { PairRunOptions } from './pair-options.js';

type Show = (c: readonly (Command | string)[]) => void;
const plan = (send: readonly PlannedFile[], replace: readonly PlannedFile[], del: readonly PlannedFile[] = []): PairPlan => ({ send, replace, delete: del, sourceFiles: send.length + replace.length, destFiles: replace.length + del.length, sourceDigest: '', destDigest: '' });

/** Runs one planned transfer (aws stages a batch as links in a folder of its own), removed afterwards. */
async function run(pair: ResolvedPair, adapter: Adapter, p: PairPlan, o: PairRunOptions, ctx: AttemptContext, show: Show, progress: boolean): ReturnType<typeof attempt> {
  const planned = (adapter.files as NonNullable<Adapter['files']>).transfer(pair, 'push', p, o.plan);
  const commands = [...planned.send, ...planned.delete];
  show(commands);
  if (planned.stage) await stageLinks(pair.local, planned.stage);
  return attempt(commands, { ...ctx, pair, progress, watchStall: progress }).finally(() => (planned.stage ? rm(planned.stage.dir, { recursive: true, force: true }) : undefined));
}

/** Both sides listed; the local one with the checksums the remote's listing carries. */
async function sides(pair: ResolvedPair, lister: Lister, ctx: AttemptContext, show: Show): Promise<{ local: Listing; remote: Listing } | { stop: Body }> {
  const [remote, listed] = await Promise.all([remoteListing(lister, ctx, (l) => show(l)), localListing(pair, lister.local, ctx)]);
  if ('stop' in remote) return remote;
  return { local: await withBlobIds(pair, listed, remote.value), remote: remote.value };
}

export async function drainPlanned(asWritten: ResolvedPair, adapter: Adapter, lister: Lister, o: PairRunOptions, budget: AbortSignal, last: AttemptContext, show: Show, overBudget: (stop: Body, left: readonly string[], step: string, moved?: object) => Body, leftMessage: (left: readonly string[], planned: number) => string): Promise<Body> {
  // Deletions never run in a drain: under a deadline they save nothing, and extras are not what is at risk.
  const pair: ResolvedPair = { ...asWritten, delete: false };
  const inBudget: AttemptContext = { ...last, pair, signal: budget };
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'listing' });
  const listed = await sides(pair, lister, inBudget, show);
  if ('stop' in listed) return overBudget(listed.stop, [], 'listing');
  const whole = computePlan(listed.local, listed.remote, { mirror: false, modifyWindowMs: lister.modifyWindowMs, opaqueEtags: opaqueEtagsOf(pair.remote) });
  const changes = changesOf(whole);
  const guard = guardChanges({ direction: 'push', mirror: false, maxDelete: pair.maxDelete, changes });
  if (guard) return { status: 'refused', error: guard, changes };
  // The hashed listing carries no times: the planned files are stat'ed here, once each.
  const mtimes = new Map(await Promise.all(changes.transfer.map(async (p) => [p, (await stat(join(pair.local, p)).catch(() => undefined))?.mtimeMs ?? 0] as const)));
  const order = newestFirst(changes.transfer, (p) => mtimes.get(p) ?? 0);
  if (o.dryRun) return { status: 'planned', changes: { ...changes, transfer: order } };

  // The old marker goes first: until it is written again the destination is not known whole. The
  // listing leaves the marker out (it is excluded), so its removal is always asked; S3 deletes idempotently.
  if (pair.drainMarker) {
    const bare: ResolvedPair = { ...pair, backup: false, exclude: pair.exclude.filter((e) => e !== `/${pair.drainMarker}`) };
    const done = await run(bare, adapter, plan([], [], [{ path: pair.drainMarker, size: 0, reason: 'extra' }]), o, last, show, false);
    if (done.kind !== 'ok') return overBudget({ ...stopped(done), error: `could not remove the old ${pair.drainMarker} marker before the drain: ${stopped(done).error ?? ''}` }, order, 'removal of the old marker');
  }
  const byPath = new Map([...whole.send, ...whole.replace].map((f) => [f.path, f]));
  const replaced = new Set(whole.replace.map((f) => f.path));
  const moved = { attempts: 1, files: 0, bytes: 0, warnings: [] as string[] };
  const left = [...order];
  for (const batch of batches(order, MAX_BATCH)) {
    if (budget.aborted) break;
    o.emit({ kind: 'pair_step', pair: pair.name, step: `pushing ${order.length - left.length + 1}–${order.length - left.length + batch.length} of ${order.length}, newest first` });
    const files = batch.map((p) => byPath.get(p) as PlannedFile);
    const done = await run(pair, adapter, plan(files.filter((f) => !replaced.has(f.path)), files.filter((f) => replaced.has(f.path))), o, inBudget, show, true);
    if (done.kind === 'interrupted') {
      // Some of the batch may have been PUT before the tool was stopped: those objects are whole.
      const now = await sides(pair, lister, { ...last, pair }, show);
      const still = 'stop' in now ? new Set(batch) : new Set(changesOf(computePlan(now.local, now.remote, { mirror: false, modifyWindowMs: lister.modifyWindowMs, opaqueEtags: opaqueEtagsOf(pair.remote) })).transfer);
      const sent = batch.filter((p) => !still.has(p));
      left.splice(0, left.length, ...left.filter((p) => !sent.includes(p)));
      moved.files += sent.length;
      moved.bytes += sent.reduce((n, p) => n + (byPath.get(p)?.size ?? 0), 0);
      break;
    }
    if (done.kind !== 'ok') return { ...stopped(done), ...moved, changes, left };
    moved.attempts = Math.max(moved.attempts, done.attempts);
    moved.warnings.push(...done.warnings);
    moved.files += files.length;
    moved.bytes += files.reduce((n, f) => n + f.size, 0);
    left.splice(0, batch.length);
  }
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', ...moved, changes, left };
  if (left.length) return { status: 'partial', error: leftMessage(left, order.length), ...moved, changes, left };

  // Everything planned was sent: the marker only after the listings agree.
  const after = await sides(pair, lister, inBudget, show);
  if ('stop' in after) return overBudget(after.stop, [], 'verify', moved);
  const mode: 'size' | 'checksum' = pair.verify === 'size' ? 'size' : 'checksum';
  const judged = await compareListed(adapter, pair, after.local.entries, after.remote.entries, mode, inBudget);
  if ('stop' in judged) return overBudget(judged.stop, [], 'verify', moved);
  const d = driftOf(judged.value, pair, 'push');
  const verify = { ...judged.value, status: d.missing.length || d.changed.length ? ('drift' as const) : ('in_sync' as const), mode, proof: 'cached' as const };
  if (verify.status === 'drift') return { status: 'drift', error: `verify found the destination differs after the drain: ${describeDrift(verify, pair, 'push')}; no marker written`, verify, ...moved, changes };
  // As a plain push says it: files only their sizes could vouch for (an opaque ETag, no checksum).
  const unproven = sayUnproven(verify, pair, o.emit);
  const warnings = [...moved.warnings, ...unproven];
  if (pair.drainMarker) {
    const written = await writeMarker(pair, pair.drainMarker, after.local.entries.length, adapter, o, last, show);
    if (written) {
      const stopped = overBudget(written, [], 'marker write', moved);
      return { ...stopped, verify, changes, warnings: [...(stopped.warnings ?? []), ...unproven] };
    }
  }
  return { status: 'ok', verify, ...moved, changes, warnings };
}

/** The marker, one PUT of a small object at the destination's top: it exists whole or not at all. */
async function writeMarker(pair: ResolvedPair, marker: string, files: number, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: Show): Promise<Body | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'labsync-marker-'));
  try {
    const text = `${JSON.stringify({ pair: pair.name, completedAt: new Date().toISOString(), host: hostname(), files })}\n`;
    await writeFile(join(dir, marker), text);
    const { bwlimit: _slow, ...plain }: ResolvedPair = { ...pair, local: dir, exclude: [], delete: false, backup: false };
    const done = await run(plain, adapter, plan([{ path: marker, size: Buffer.byteLength(text), reason: 'missing' }], []), o, ctx, show, false);
    return done.kind === 'ok' ? undefined : { ...stopped(done), error: `everything was sent and verified, but the ${marker} marker could not be written: ${stopped(done).error ?? ''}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
