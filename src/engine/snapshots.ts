// Hard-linked snapshots (issue 15): each push writes a complete tree beside the previous ones, every
// unchanged file a hard link to the previous snapshot (rsync --link-dest), into a folder that is
// renamed to the run's stamp only once the transfer and its verify succeeded; then `latest` moves to
// it. A failed or interrupted run leaves that folder for the next run to write into again, and
// `latest` where it was. Pull, check and status read `latest` (or --snapshot).
import { join, posix } from 'node:path';
import type { Adapter, Changes, Command, PlanContext, SnapshotState, SnapshotSteps } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { verifyPair } from './compare-pair.js';
import type { VerifyResult } from './events.js';
import { listBoth, plansItself, verifyListed } from './plan-run.js';
import { guardChanges } from './guards.js';
import { probe, stopped, type Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { movedStats } from './sizes.js';

/** The pair pointed at one folder under its remote path. */
export function under(pair: ResolvedPair, name: string): ResolvedPair {
  const r = pair.remote;
  if (r.type !== 'local' && r.type !== 'ssh') throw new Error(`snapshots need a local or ssh remote (pair ${pair.name})`);
  // snapshotOf: what the pair's records beside its caches name (pairEnds): every snapshot is the same pair.
  return { ...pair, snapshotOf: pair.snapshotOf ?? r, remote: { ...r, path: r.type === 'local' ? join(r.path, name) : posix.join(r.path, name) } } as ResolvedPair;
}

/** Snapshots beyond `keep`, oldest first; never the one `latest` names. */
export function beyondKeep(names: readonly string[], keep: number, latest: string | undefined): string[] {
  const sorted = [...new Set(names)].sort();
  const kept = new Set(sorted.slice(-keep));
  return sorted.filter((n) => !kept.has(n) && n !== latest);
}

function stepsOf(ctx: AttemptContext): SnapshotSteps {
  const steps = ctx.adapter.snapshots;
  if (!steps) throw new Error(`${ctx.adapter.tool} makes no snapshots`);
  return steps;
}

async function readState(pair: ResolvedPair, ctx: AttemptContext, show: (c: readonly Command[]) => void): Promise<{ value: SnapshotState } | { stop: Body }> {
  const p = stepsOf(ctx).state(pair);
  show(p.commands);
  return probe(p, ctx);
}

/**
 * What pull, check and status read: the snapshot `latest` names, or `wanted` (--snapshot).
 * `none`: there is no snapshot yet.
 */
async function snapshotSource(pair: ResolvedPair, ctx: AttemptContext, wanted: string | undefined, show: (c: readonly Command[]) => void): Promise<{ pair: ResolvedPair; name: string } | { none: string } | { stop: Body }> {
  const got = await readState(pair, ctx, show);
  if ('stop' in got) return got;
  const s = got.value;
  if (wanted) {
    if (s.names.includes(wanted)) return { pair: under(pair, wanted), name: wanted };
    const there = s.names.slice(-5).join(', ');
    return { stop: { status: 'refused', error: `no snapshot ${wanted} at ${pair.remoteLabel}${there ? ` (the newest there: ${there})` : ' (there is none yet)'}` } };
  }
  if (s.latestNotLink) return { stop: { status: 'refused', error: notLink(pair, s.names) } };
  // latest gone or dangling while snapshots are there: said so, not "none yet" (the next push links it again).
  if (!s.latest && s.names.length) return { stop: { status: 'refused', error: `latest at ${pair.remoteLabel} names no snapshot there (removed by hand?); the newest is ${s.names.at(-1) as string}: --snapshot ${s.names.at(-1) as string} reads it, and the next push points latest again` } };
  if (!s.latest) return { none: `no snapshot at ${pair.remoteLabel} yet${s.incomplete ? ' (only an unfinished one, which the next push completes)' : ''}` };
  return { pair: under(pair, s.latest), name: s.latest };
}

const notLink = (pair: ResolvedPair, names: readonly string[]): string =>
  `latest at ${pair.remoteLabel} is a folder or file, not the symlink labsync keeps (restored with cp -r?): move it aside, it may hold the only copy of something, and run again${names.length ? ` (the newest snapshot there: ${names.at(-1) as string}; --snapshot reads one by name)` : ''}; nothing was changed`;

/** A snapshot pair is read at `latest` (or --snapshot); any other pair as it is. */
export async function snapshotRead(pair: ResolvedPair, ctx: AttemptContext, o: PairRunOptions, show: (c: readonly Command[]) => void): ReturnType<typeof snapshotSource> {
  if (!pair.snapshots) {
    if (o.plan.snapshot) return { stop: { status: 'refused', error: `--snapshot applies to pairs with snapshots:, and ${pair.name} has none` } };
    return { pair, name: '' };
  }
  // A snapshot is the whole tree: check and status count files only there as drift too. A pull deletes
  // local files only when the pair says delete.
  return snapshotSource(o.action === 'pull' ? pair : { ...pair, delete: true }, ctx, o.plan.snapshot, show);
}

/**
 * The new snapshot against the local tree. On an ssh host: one listing and sha256sum there, the local
 * side from its hash cache (nothing read here); else, and on a host without GNU find or sha256sum,
 * as any pair is verified. Every file on the far side is read: linking changed their ctimes.
 */
export async function verifySnapshot(target: ResolvedPair, adapter: Adapter, ctx: AttemptContext, plan: PlanContext): Promise<VerifyResult | { stop: Body }> {
  if (target.remote.type === 'ssh' && target.verify !== 'none' && plansItself(target, adapter)) {
    const listed = await listBoth(target, ctx);
    if ('stop' in listed) return listed;
    if (!('unsupported' in listed)) {
      const v = await verifyListed(target, 'push', listed.local, listed.remote, target.verify, false, ctx);
      if (v) return v;
    }
  }
  return verifyPair(adapter, target, 'push', ctx, plan);
}

type AfterTransfer = (pair: ResolvedPair, base: { attempts: number; changes: Changes; warnings: string[]; files: number; bytes: number }) => Promise<Body>;

/** One snapshot push: guard against the previous snapshot, write, verify, publish, prune. */
export async function snapshotPush(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (c: readonly Command[]) => void, verifyAfter: AfterTransfer): Promise<Body> {
  const steps = stepsOf(ctx);
  const keep = pair.snapshots?.keep ?? 1;
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'reading snapshots' });
  const got = await readState(pair, ctx, show);
  if ('stop' in got) return got.stop;
  const state = got.value;
  if (state.latestNotLink) return { status: 'refused', error: notLink(pair, state.names) };
  // `latest` gone or dangling (removed by hand): the newest snapshot is still what this one links to and is guarded against.
  const prev = state.latest ?? state.names.at(-1);
  // A snapshot is a complete tree: what the source no longer has is not in it.
  const complete: ResolvedPair = { ...pair, delete: true, backup: false };
  const target = under(complete, steps.incomplete);

  // The guard judges what this snapshot drops compared with the previous one.
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const preview = adapter.preview(prev ? under(complete, prev) : target, 'push', o.plan);
  show(preview.commands);
  const looked = await probe<Changes>(preview, ctx);
  if ('stop' in looked) return looked.stop;
  // With no previous snapshot nothing is dropped (a leftover unfinished folder is not a snapshot).
  const changes: Changes = prev ? looked.value : { ...looked.value, delete: [], destFiles: 0 };
  const refusal = guardChanges({ direction: 'push', mirror: true, maxDelete: pair.maxDelete, changes });
  if (refusal) return { status: 'refused', error: refusal, changes };
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };

  const name = o.plan.stamp;
  // mv into an existing folder would nest the new tree inside it: only a clock set back gets here.
  if (state.names.includes(name)) return { status: 'failed', error: `a snapshot named ${name} is already at ${pair.remoteLabel} (was the clock set back?); nothing was written`, changes };
  if (state.incomplete) {
    const unlink = [steps.unlink(pair)];
    show(unlink);
    const unshared = await attempt(unlink, ctx);
    if (unshared.kind !== 'ok') return { ...stopped(unshared), changes };
  }
  const transfer = adapter.transfer(prev ? { ...target, linkDest: `../${prev}` } : target, 'push', o.plan);
  show(transfer);
  o.emit({ kind: 'pair_step', pair: pair.name, step: `writing snapshot ${name}${prev ? ` (unchanged files linked to ${prev})` : ''}` });
  const moved = await attempt(transfer, { ...ctx, pair: target, progress: true, watchStall: true });
  if (moved.kind !== 'ok') return { ...stopped(moved), changes };
  const stats = await movedStats(adapter, target, moved.outputs, changes);
  const after = await verifyAfter(target, { attempts: moved.attempts, changes, warnings: [...moved.warnings], ...stats });
  // Unverified, or differing: `latest` stays where it was; the folder is written into again next run.
  if (after.status !== 'ok') return after;

  const publish = [steps.publish(pair, name, state.incomplete || moved.attempts > 1)];
  show(publish);
  const published = await attempt(publish, ctx);
  if (published.kind !== 'ok') return { ...after, ...stopped(published), changes };
  o.emit({ kind: 'pair_step', pair: pair.name, step: `snapshot ${name} is latest` });
  const warnings = [...(after.warnings ?? [])];
  // Snapshots are ordered by name (their stamps): one dated after this run (a clock ahead elsewhere, or
  // set back here) would keep its place as "newest" and this run's recent ones would be pruned instead.
  const ahead = state.names.filter((n) => n > name);
  const old = ahead.length ? [] : beyondKeep([...state.names, name], keep, name);
  if (ahead.length) warnings.push(`not pruning: ${ahead.length === 1 ? 'the snapshot' : `${ahead.length} snapshots`} ${ahead.slice(0, 3).join(', ')} ${ahead.length === 1 ? 'is' : 'are'} dated after this run's ${name} (a clock ahead on another machine or set back here, or a run that began earlier and finished later); keep counts by date, so remove ${ahead.length === 1 ? 'it' : 'them'} by hand or let the clock pass`);
  if (old.length) {
    const prune = [steps.prune(pair, old)];
    show(prune);
    const pruned = await attempt(prune, ctx);
    // The new snapshot stands either way: a failed removal only leaves more snapshots than keep.
    if (pruned.kind !== 'ok') warnings.push(`could not remove ${old.length} old snapshot${old.length === 1 ? '' : 's'}: ${stopped(pruned).error ?? ''}`);
  }
  return { ...after, warnings, snapshot: name };
}
