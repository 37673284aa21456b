// list → plan → transfer → verify, for tools whose adapter lists the remote (aws, rclone): labsync
// owns the diff (issue 12). Each side is listed once; the guard, --dry-run, status and the transfer
// read the one plan; the tool moves exactly the planned files; deletions come after every transfer.
import { mkdir, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Adapter, Command, Lister, PlannedTransfer } from '../adapters/types.js';
import { computePlan, isEmptyPlan, opaqueEtagsOf, planBytes } from '../plan/compute.js';
import { firstOdd } from '../plan/odd-path.js';
import { changesOf } from '../plan/changes.js';
import type { Listing, PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { attempt, type Attempted, type AttemptContext } from './attempt.js';
import { describePush, directPush, pushDirect } from './s3-push.js';
import { compareListed, driftOf, describeDrift, sayUnproven, verifyPair } from './compare-pair.js';
import { guardChanges, kindClashRefusal } from './guards.js';
import { atPlan } from './plan-seam.js';
import { inSlice, runFingerprint } from './shard.js';
import { slicePlan, sliceVerify } from './shard-plan.js';
import { hasDigest, localListing, remoteAfterPush, remoteListing, withBlobIds } from './listings.js';
import { forgetRemoteCommit, madeRemoteCommit, warmVersion } from './receipt.js';
import { backupLocal, BACKUP_DIR } from './local-backup.js';
import { stopped, type Body } from './outcome.js';
import type { PairRunOptions, ShardRun } from './pair-options.js';
import { fullCheckDue } from './full-check.js';
import { rememberPulled, unknownAsChanged } from './mlflow-unknown.js';

export async function stageLinks(local: string, stage: NonNullable<PlannedTransfer['stage']>): Promise<void> {
  await rm(stage.dir, { recursive: true, force: true });
  for (const path of stage.paths) {
    const at = join(stage.dir, path);
    await mkdir(dirname(at), { recursive: true });
    await symlink(join(local, path), at);
  }
}

export async function plannedBody(pair: ResolvedPair, adapter: Adapter, lister: Lister, direction: 'push' | 'pull', o: PairRunOptions, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void): Promise<Body> {
  const body = await listPlanMove(pair, adapter, lister, direction, o, ctx, show);
  // An mlflow pull that ended well holds its version whole: files of it without a listed sha256 are not fetched again (mlflow-unknown.ts).
  if (pair.tool === 'mlflow' && direction === 'pull' && body.status === 'ok' && !o.dryRun && !o.shardRun && o.action !== 'status') {
    await rememberPulled(pair, body.record?.version, (message) => ctx.emit({ kind: 'warning', pair: pair.name, message }));
  }
  return body;
}

async function listPlanMove(pair: ResolvedPair, adapter: Adapter, lister: Lister, direction: 'push' | 'pull', o: PairRunOptions, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void): Promise<Body> {
  const lines = (l: readonly string[]): void => show(l);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const hashed = { bytes: 0 };
  const listing = Promise.all([remoteListing(lister, ctx, lines), localListing(pair, lister.local, ctx, hashed)]);
  // The receipt's tool version, asked while the listings run rather than after the pair (aws's own
  // start is ~0.4 s; with the version remembered from an earlier run, nothing is run).
  warmVersion(pair, ctx.redact);
  const [remote, listed] = await listing;
  if ('stop' in remote) return remote.stop;
  const local = await withBlobIds(pair, listed, remote.value, hashed);
  let record = adapter.record?.(remote.outputs);
  const known = unknownAsChanged(pair, direction, remote.value, record?.version);
  const [source, dest]: [Listing, Listing] = direction === 'push' ? [local, known] : [known, local];
  // An object store holds `x` and `x/f` side by side: only a local or ssh destination can clash.
  const kinds = direction === 'pull' || pair.remote.type === 'local' || pair.remote.type === 'ssh';
  const whole = computePlan(source, dest, { mirror: pair.delete, kinds, modifyWindowMs: lister.modifyWindowMs, opaqueEtags: opaqueEtagsOf(pair.remote) });
  const wholeChanges = changesOf(whole);
  const pending = wholeChanges.transfer.length + wholeChanges.delete.length;

  if (o.action === 'status') return { status: pending || remote.unset ? 'drift' : 'in_sync', changes: wholeChanges, ...(remote.unset && !pending ? { error: `${remote.unset} at ${pair.remoteLabel}` } : {}) };
  if (o.shardRun) o.shardRun.run = runFingerprint(direction, pair.delete, source.entries);
  // A key that names no file inside the local folder (`x/../../.bashrc`): joined to it, it would climb out
  // or land on another file. Said, and nothing pulled, rather than written where it points.
  const odd = direction === 'pull' ? firstOdd([...whole.send, ...whole.replace].map((f) => f.path)) : undefined;
  if (odd !== undefined) return { status: 'refused', error: `${pair.remoteLabel} holds the key ${JSON.stringify(odd)}, which names no file inside ${pair.local} (an empty, "." or ".." segment); nothing was pulled. Rename or remove it there, or exclude it`, changes: wholeChanges };
  // rclone reads its list of planned files line by line (--files-from-raw), a trailing CR dropped: such a
  // name would be split into others, or never moved and drift on every run (review 43).
  const unlisted = pair.tool === 'rclone' ? [...whole.send, ...whole.replace, ...whole.delete].find((f) => /[\n]|\r$/.test(f.path)) : undefined;
  if (unlisted) return { status: 'refused', error: `the file ${JSON.stringify(unlisted.path)} has a line break in its name, which rclone's list of files cannot carry; nothing was sent. Rename it, or exclude it`, changes: wholeChanges };
  // The guard judges the whole pair's plan, so every shard reaches the same verdict; a shard then moves its slice.
  const refusal = guardChanges({ direction, mirror: pair.delete, maxDelete: pair.maxDelete, changes: wholeChanges }) ?? kindClashRefusal(whole);
  // Said before a saved plan is kept, so `plan --save` shows what its apply will set.
  // Nothing to send, yet the remote lacks something a push makes (an alias not set): the push runs,
  // and a dry run says it would. One it does not make (a branch not made yet, whose base equals the folder) is said.
  const sets = direction === 'push' && isEmptyPlan(whole) && remote.unset !== undefined && remote.pushSets === true;
  const listedAt = typeof record?.version === 'number' ? record.version : undefined;
  if (sets) o.emit({ kind: 'warning', pair: pair.name, message: `${remote.unset} at ${pair.remoteLabel}: the push ${o.dryRun || o.seam?.kind === 'save' ? 'would point' : 'points'} it at ${listedAt !== undefined ? `version ${listedAt}, which holds the folder` : 'a version of the folder'}` });
  if (direction === 'push' && isEmptyPlan(whole) && remote.unset && !remote.pushSets) o.emit({ kind: 'warning', pair: pair.name, message: `${remote.unset} at ${pair.remoteLabel}, and the folder equals what it would start from: ${o.dryRun || o.seam?.kind === 'save' ? 'nothing would be pushed, so it would not be made' : 'nothing was pushed, so it was not made'}` });
  const held = atPlan(o.seam, pair, direction, whole, refusal);
  if (held) return { ...held, changes: wholeChanges };
  if (refusal) return { status: 'refused', error: refusal, changes: wholeChanges };
  const plan = o.shardRun ? slicePlan(whole, o.shardRun.shard) : whole;
  const changes = o.shardRun ? changesOf(plan) : wholeChanges;
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };

  let attempts = 1;
  const warnings: string[] = [];
  let movedBy: 'labsync-s3' | undefined;
  // Nothing to do means nothing run: the listings just taken already compared every file.
  if (!isEmptyPlan(plan) || sets) {
    if (direction === 'pull' && pair.backup && adapter.localBackup) {
      const kept = await backupLocal(pair.local, changes, o.plan.stamp);
      if (kept) o.emit({ kind: 'pair_step', pair: pair.name, step: `kept ${kept} local files in ${BACKUP_DIR}/${o.plan.stamp}` });
    }
    const own = direction === 'push' ? await ownPut(pair, lister, plan, o, ctx, show) : undefined;
    if (own && 'kind' in own && own.kind === 'ok') movedBy = 'labsync-s3';
    // A pull reads the revision it planned from (hf's commit, mlflow's version), never a newer one.
    // A push that only sets what the remote lacks (an alias) sets it at the version listed.
    // A push names the revision it was listed at (hf: the commit its new one must follow).
    const at = direction === 'pull' ? (remote.revision ?? listedAt) : sets ? listedAt : remote.revision;
    // After labsync's own PUTs stopped part-way, aws-cli sends only what they had not (review 44: the
    // whole plan again, 100k objects for one file gone since the listing).
    const moved = own && 'kind' in own ? own : await viaTool(pair, adapter, direction, own?.rest ?? plan, o, ctx, show, at);
    if (moved.kind !== 'ok') return { ...stopped(moved), changes };
    attempts = moved.attempts;
    warnings.push(...moved.warnings);
    record = adapter.record?.(moved.outputs) ?? record;
    // The first listing's commit is stale now; the one the push made is the receipt's (verify or not).
    if (direction === 'push') {
      forgetRemoteCommit(pair);
      const made = adapter.madeRevision?.(moved.outputs);
      if (made) madeRemoteCommit(pair, made);
    }
  }
  const base = { attempts, changes, warnings, files: changes.transfer.length, bytes: planBytes(plan), ...(record ? { record } : {}), ...(movedBy ? { movedBy } : {}) };
  if (!o.verify || pair.verify === 'none') return { status: 'ok', ...base };

  // Verify from listings: a push lists the remote once more; a pull compares what landed with the
  // listing the plan was made from. The local side comes from the hash cache either way.
  // A due full_check (full-check.ts) verifies as `check --full` does: every local byte read again, or the tool's download.
  if (!hasDigest(lister.local) || (pair.verify === 'checksum' && fullCheckDue(pair, false))) return fromTool(pair, adapter, direction, ctx, o, base);
  const mode = pair.verify;
  o.emit({ kind: 'pair_step', pair: pair.name, step: `verifying (${mode})` });
  const relist = direction === 'push' && !isEmptyPlan(plan);
  const touched = [...plan.send, ...plan.replace, ...plan.delete].map((f) => f.path);
  const after = relist ? await remoteAfterPush(lister, ctx, remote.value, touched, lines) : { value: remote.value };
  if ('stop' in after) return { ...base, ...after.stop };
  const here = isEmptyPlan(plan) ? local : await withBlobIds(pair, await localListing(pair, mode === 'size' ? {} : lister.local, ctx, hashed), after.value, hashed);
  // A shard answers for its slice only: the other workers' files may not have landed yet.
  const mine = <T extends { readonly path: string }>(list: readonly T[]): readonly T[] => (o.shardRun ? list.filter((e) => inSlice(e.path, (o.shardRun as ShardRun).shard)) : list);
  const judged = await compareListed(adapter, pair, mine(here.entries), mine(after.value.entries), mode, ctx);
  if ('stop' in judged) return { ...base, ...judged.stop };
  const report = { ...judged.value, bytesHashed: { local: hashed.bytes, remote: 0 } };
  const d = driftOf(report, pair, direction);
  const verify = { ...report, status: d.missing.length + d.extra.length + d.changed.length ? ('drift' as const) : ('in_sync' as const), mode, proof: 'cached' as const };
  if (verify.status === 'drift') return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(verify, pair, direction)}`, verify, ...base };
  base.warnings.push(...sayUnproven(verify, pair, o.emit));
  return { status: 'ok', verify, ...base };
}

/** The tool moves exactly the planned files. */
async function viaTool(pair: ResolvedPair, adapter: Adapter, direction: 'push' | 'pull', plan: PairPlan, o: PairRunOptions, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void, at?: string | number): Promise<Attempted> {
  const planned = (adapter.files as NonNullable<Adapter['files']>).transfer(pair, direction, plan, o.plan, at === undefined ? {} : { at });
  const commands = [...planned.send, ...planned.delete];
  show(commands);
  o.emit({ kind: 'pair_step', pair: pair.name, step: direction === 'pull' ? 'pulling' : 'pushing' });
  if (direction === 'pull') await mkdir(pair.local, { recursive: true });
  if (planned.stage) await stageLinks(pair.local, planned.stage);
  const moved = await attempt(commands, { ...ctx, progress: true, watchStall: true }).finally(() => (planned.stage ? rm(planned.stage.dir, { recursive: true, force: true }) : undefined));
  if (moved.kind === 'ok') for (const path of planned.deleteLocal ?? []) await unlink(join(pair.local, path)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  return moved;
}

/** An aws push PUT by labsync itself (s3-push.ts); undefined: the tool moves it; `rest`: the tool moves what the PUTs had not when a store refused labsync's request or a file changed. */
async function ownPut(pair: ResolvedPair, lister: Lister, plan: PairPlan, o: PairRunOptions, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void): Promise<Attempted | { rest: PairPlan } | undefined> {
  const direct = directPush(pair, lister, plan);
  if ('reason' in direct) return undefined;
  show([describePush(direct)]);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'pushing' });
  const got = await pushDirect(direct, ctx);
  if (got.kind !== 'fallback') return got;
  show([`(labsync's own PUT stopped: ${ctx.redact(got.reason)}; aws-cli moves the ${got.sent.size ? 'files not yet sent' : 'files'} instead)`]);
  const left = (files: PairPlan['send']): PairPlan['send'] => files.filter((f) => !got.sent.has(f.path));
  return { rest: { ...plan, send: left(plan.send), replace: left(plan.replace) } };
}

/** Where the listings carry no checksum (an sftp remote through rclone), or a full check is due: verifyPair's comparison. */
async function fromTool(pair: ResolvedPair, adapter: Adapter, direction: 'push' | 'pull', ctx: AttemptContext, o: PairRunOptions, base: Omit<Body, 'status'> & { warnings: string[] }): Promise<Body> {
  const got = await verifyPair(adapter, pair, direction, ctx, o.plan);
  if ('stop' in got) return { ...base, ...got.stop };
  const v = o.shardRun ? sliceVerify(got, o.shardRun.shard, pair, direction) : got;
  if (v.status === 'drift') return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(v, pair, direction)}`, verify: v, ...base };
  base.warnings.push(...sayUnproven(v, pair, o.emit));
  return { status: 'ok', verify: v, ...base };
}
