// list → plan → transfer → verify, for tools that let labsync own the diff (issue 12): each side is
// listed once, the plan is computed from the two listings and both hash caches, the guard judges the
// plan, the tool moves exactly the planned files and deletes last, and verify reads only what the
// plan touched or what changed since it was last hashed.
import type { Adapter, Changes, Command, RemoteListing } from '../adapters/types.js';
import { changesOf, deletionTargets, filesPlan } from '../plan/changes.js';
import { computePlan, isEmptyPlan, listingOf } from '../plan/compute.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import type { Entry } from '../verify/compare.js';
import type { AttemptContext } from './attempt.js';
import { repairOnce } from './repair-drift.js';
import { compareListed, type Written } from './compare-listed.js';
import { provedBy, writtenFrom, writtenIn } from './written.js';
import { describeDrift, driftOf, verifyPair } from './compare-pair.js';
import type { VerifyResult } from './events.js';
import { fullCheckDue, recordFullCheck } from './full-check.js';
import { guardChanges, kindClashRefusal } from './guards.js';
import { atPlan } from './plan-seam.js';
import { runFingerprint } from './shard.js';
import { deletionKey, slicePlan, sliceVerify } from './shard-plan.js';
import type { Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { rememberSumsDigest, warmVersion } from './receipt.js';
import { sameBySummary } from './side-summary.js';
import { cachedSha, carryFresh, holdsLinks, listLocal, listRemote, type Found, type Listed, type Side } from './sides.js';
import { recognisePair, rememberSides, unchangedBody } from './unchanged.js';
import { withSharedSsh } from './ssh-mux.js';
import { deletionTargetsAt, incrementalOf, incrementalPlan, type Planned as IncrementalPlan } from './incremental.js';
import { judgedFor, verifyIncremental } from './incremental-verify.js';
import { prepareAhead } from './incremental-prepare-far.js';
import { work, workSince, type Work } from '../verify/work-count.js';
import { deletePlannedUnder, splitPullTargets } from './local-delete.js';
import { holdsSession, listAgain, relayFits, takeSession, type Held } from './ssh-held.js';
import { earlyFiles, hashWhileSending, withEarly } from './early-hash.js';
import { move, pacedBy, sendFiles, type Moved } from './send-files.js';
import { mark } from '../util/trace.js';
import { hasSummary } from '../verify/tree-summary.js';
import { readWhileWaiting } from './local-ahead.js';
import { cacheDir } from './pair-tree.js';
import { withFastCipher } from './ssh-cipher.js';
import { statsAfter, touchedBy } from './listing-after.js';
import { asking } from './host-after.js';

/** The tool can list, hash and move exact file lists for this pair's remote. */
export function plansItself(pair: ResolvedPair, adapter: Adapter): boolean {
  // A tool that hashes on the remote's side lists it as a tree (ssh); a local remote labsync walks and hashes itself.
  if (!adapter.files?.hash || process.env.LABSYNC_PLAN === '0') return false;
  return pair.remote.type === 'local' || pair.remote.type === 'ssh';
}

type Sides = { local: Side; remote: Side } | { unsupported: string } | { stop: Body };

export interface ListBothOptions {
  /** Both local trees as find already listed them in this run (unchanged.ts), not listed again. */
  readonly found?: { local?: Found; remote?: Found } | undefined;
  /** The sides as listed before a transfer, whose hash caches the new listings take over (not read again). */
  readonly earlier?: { local: Side; remote: Side } | undefined;
  /** The host's session kept for the transfer, or the host's listing already taken in it (ssh-held.ts). */
  readonly held?: Parameters<typeof listRemote>[4];
  /** Given the remote side's listing as it starts (it may end well before the local one). */
  readonly seen?: (remote: Promise<Listed>) => void;
  /** The caller will read the whole local listing and its cache (no incremental plan can be made): read while the host's listing is awaited. */
  readonly whole?: boolean;
}

export async function listBoth(pair: ResolvedPair, ctx: AttemptContext, { found, earlier, held, seen, whole = false }: ListBothOptions = {}): Promise<Sides> {
  // The host's listing first: its ssh login is the longest wait of the run, the local walk goes on meanwhile.
  const there = listRemote(pair, ctx, found?.remote, earlier?.remote, held);
  seen?.(there);
  const here = listLocal(pair, pair.local, ctx, found?.local, earlier?.local);
  if (whole) void readWhileWaiting(here, there);
  const [local, remote] = await Promise.all([here, there]);
  // find marks symlinks in the listing's own walk; only without GNU find does a second walk ask.
  if (local.links !== undefined ? local.links > 0 : await holdsLinks(pair.local)) return { unsupported: 'the folder holds symlinks' };
  return 'side' in remote ? { local, remote: remote.side } : remote;
}

function entries(side: Side): Entry[] {
  work.entries += side.paths.length;
  return side.paths.map((path, i) => {
    const sha256 = cachedSha(side, i);
    return { path, size: side.keys[i * 4] as number, mtimeMs: side.keys[i * 4 + 1] as number, ...(sha256 ? { sha256 } : {}) };
  });
}

export function planOf(pair: ResolvedPair, direction: 'push' | 'pull', local: Side, remote: Side): PairPlan {
  const [src, dst] = direction === 'push' ? [local, remote] : [remote, local];
  return computePlan(listingOf(entries(src)), listingOf(entries(dst)), { mirror: pair.delete, kinds: true });
}

/** Compare the sides as listed: a VerifyResult, or undefined where the remote cannot hash (the tool's comparison then). */
export async function verifyListed(pair: ResolvedPair, direction: 'push' | 'pull', local: Side, remote: Side, mode: 'checksum' | 'size', full: boolean, ctx: AttemptContext, written?: Written): Promise<VerifyResult | { stop: Body } | undefined> {
  ctx.emit({ kind: 'pair_step', pair: pair.name, step: `verifying (${mode}${full ? ', every byte' : ''})` });
  // What the comparison built (check's --json shows it as a push does): the whole path parses every cache row.
  const began = { ...work };
  const same = !full && !written && mode === 'checksum' ? sameBySummary(pair, local, remote) : undefined;
  mark('summary compared');
  if (same) {
    if (same.sums) rememberSumsDigest(pair, same.sums, same.files);
    return { checked: same.files, missing: [], extra: [], changed: [], bytesHashed: { local: 0, remote: 0 }, status: 'in_sync', mode, proof: 'cached', work: workSince(began) };
  }
  // A few records changed since the last proof (or its racy files): only those are compared (incremental-verify.ts).
  const small = !full && !written && mode === 'checksum' ? judgedFor(await verifyIncremental(pair, local, remote, ctx), pair, direction) : undefined;
  if (small) return 'stop' in small ? small : { ...small, work: workSince(began) };
  const got = await compareListed(pair, local, remote, mode, full, ctx, written);
  if ('unsupported' in got) return undefined;
  if ('stop' in got) return got;
  if (full && mode === 'checksum') await recordFullCheck(pair, (message) => ctx.emit({ kind: 'warning', pair: pair.name, message }));
  const d = driftOf(got.value, pair, direction);
  const drift = d.missing.length + d.extra.length + d.changed.length > 0;
  // Proved equal by content: each local tree is summed up, so the next run that finds them untouched reads nothing.
  if (!drift && mode === 'checksum') await rememberSides(pair, [local, remote], ctx);
  const proof = full && mode === 'checksum' ? 'full' : got.value.provenByTransfer > 0 ? 'rsync-transfer-checksum' : 'cached';
  return { ...got.value, status: drift ? 'drift' : 'in_sync', mode, proof, work: workSince(began) };
}

/** The run of a pair whose tool plans itself; undefined: the remote cannot be listed this way (the preview path runs). */
export async function planBody(given: ResolvedPair, adapter: Adapter, o: PairRunOptions, direction: 'push' | 'pull', givenCtx: AttemptContext, show: (c: readonly Command[]) => void): Promise<Body | undefined> {
  // Every ssh connection of the run (the listing's, the transfer's) with the cheaper cipher where labsync may choose it.
  const pair = withFastCipher(given);
  const ctx = pair === given ? givenCtx : { ...givenCtx, pair };
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'listing' });
  const began = { ...work };
  // A saved plan is judged by its listings' digests, which the summaries do not keep: never the shortcut.
  // A shard needs the source listing for its run's fingerprint: never the shortcut either.
  const known = o.seam || o.shardRun ? {} : await recognisePair(pair, ctx, fullCheckDue(pair, o.plan.full));
  if ('same' in known) {
    warmVersion(pair, ctx.redact);
    return unchangedBody(pair, o, known.same);
  }
  // status holds too (and releases it after the listing): the same ssh command as a push's, which
  // bin/labsync.js may have started early (exec/early.ts).
  const hold = holdsSession(pair, { dryRun: o.dryRun, seam: Boolean(o.seam), shard: Boolean(o.shardRun) });
  // No summary of the local tree (a first push, or the last proof lost): the plan reads the whole listing.
  // Only an ssh host's listing is a wait worth filling (a local remote is walked as fast as the source).
  const whole = pair.remote.type === 'ssh' && !o.seam && !o.shardRun && !hasSummary(cacheDir(pair), pair.local);
  const listing = listBoth(pair, ctx, { found: known.stats, held: hold ? { hold: true } : undefined, whole });
  // The receipt's tool version, read while the listings run (after their processes started).
  warmVersion(pair, ctx.redact);
  const listed = await listing;
  mark('both listed');
  if ('unsupported' in listed) return undefined;
  if ('stop' in listed) return listed.stop;
  const { local, remote } = listed;
  // Every way out of the run ends the host's held session, used or not, at once (exec/held.ts).
  const held = takeSession(remote);
  try {
    return await planned(pair, adapter, o, direction, ctx, show, local, remote, held, began);
  } finally {
    held?.session.release();
  }
}

/** From the listings to the result; `held`: the host's listing session, kept for a transfer that fits it. */
async function planned(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, direction: 'push' | 'pull', ctx: AttemptContext, show: (c: readonly Command[]) => void, local: Side, remote: Side, held: Held | undefined, began: Work): Promise<Body> {
  if (direction === 'pull' && remote.missing) {
    return { status: 'refused', error: `the source does not exist: ${pair.remoteLabel}; refusing to ${pair.delete ? 'mirror' : 'pull'} it` };
  }
  // Both sides as remembered, with the same content (side-summary.ts): nothing to send, replace or delete.
  // Not for a saved plan: its digests are the listings' own, which the summaries do not keep.
  const same = o.seam || o.shardRun ? undefined : sameBySummary(pair, local, remote);
  // Few records changed since both sides were proved equal: only those are planned (incremental.ts).
  const inc = same || o.seam || o.shardRun || fullCheckDue(pair, o.plan.full) ? undefined : incrementalOf(pair, local, remote);
  const small = inc && incrementalPlan(pair, direction, inc);
  const whole = same ? { send: [], replace: [], delete: [], sourceFiles: same.files, destFiles: same.files, sourceDigest: same.sha256, destDigest: same.sha256 } : small?.plan ?? planOf(pair, direction, local, remote);
  const wholeChanges: Changes = changesOf(whole);
  if (o.action === 'status') return { status: isEmptyPlan(whole) ? 'in_sync' : 'drift', changes: wholeChanges };
  const src = direction === 'push' ? local : remote;
  if (o.shardRun) o.shardRun.run = runFingerprint(direction, pair.delete, entries(src));
  // The guard judges the whole pair's plan, so every shard reaches the same verdict; a shard then moves its slice.
  const refusal = guardChanges({ direction, mirror: pair.delete, maxDelete: pair.maxDelete, changes: wholeChanges }) ?? kindClashRefusal(whole);
  const atSeam = atPlan(o.seam, pair, direction, whole, refusal);
  if (atSeam) return { ...atSeam, changes: wholeChanges };
  if (refusal) return { status: 'refused', error: refusal, changes: wholeChanges };
  const plan = o.shardRun ? slicePlan(whole, o.shardRun.shard, deletionKey(src.paths)) : whole;
  const changes: Changes = o.shardRun ? changesOf(plan) : wholeChanges;
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };
  const planned: Planned = { plan, changes, local, remote, ...(small ? { incremental: small } : {}), began };
  // The listing's session kept: a small transfer rides it, and the host lists again in it (ssh-held.ts).
  if (held && !isEmptyPlan(plan)) return sendAndVerify(pair, adapter, o, direction, ctx, show, { ...planned, held: await asking(held, pair, remote, plan, { verify: o.verify && direction === 'push', full: fullCheckDue(pair, o.plan.full) }) });
  held?.session.release();
  if (isEmptyPlan(plan)) return sendAndVerify(pair, adapter, o, direction, ctx, show, planned);
  // Something to send: the transfer's ssh becomes the master and the listing after it rides it (ssh-mux.ts).
  return withSharedSsh(pair, ctx.redact, (p) => sendAndVerify(p, adapter, o, direction, { ...ctx, pair: p }, show, planned), 'transfer');
}

interface Planned {
  readonly plan: PairPlan;
  readonly changes: Changes;
  readonly local: Side;
  readonly remote: Side;
  /** Planned from the changed records only (incremental.ts), with the source's keys of those paths: verified the same way when it can be. */
  readonly incremental?: IncrementalPlan;
  /** The work counters when the run began (verify.work reports the difference). */
  readonly began: Work;
  readonly held?: Held;
}

/** Transfer, delete, then verify from listings taken again (none when nothing moved), repairing once. */
async function sendAndVerify(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, direction: 'push' | 'pull', ctx: AttemptContext, show: (c: readonly Command[]) => void, planned: Planned): Promise<Body> {
  const { plan, changes, local, remote, held } = planned;
  const moved: Moved = { attempts: 1, files: 0, bytes: 0, warnings: [], written: [] };
  const sending = [...plan.send, ...plan.replace].map((f) => f.path);
  const full = fullCheckDue(pair, o.plan.full);
  const source = direction === 'push' ? local : remote;
  // The host's listing after the transfer: taken in the relayed session, or asked of the held one after
  // a transfer that went its own way; undefined: a listing of its own.
  let after: Promise<RemoteListing | undefined> | undefined;
  // Every source file, none at the destination, no saved plan or shard to hold to: the tool may walk the tree itself.
  const tree = !o.seam && !o.shardRun && plan.destFiles === 0 && !plan.replace.length && !plan.delete.length && plan.send.length === plan.sourceFiles;
  // A folder is named whole where the source holds none of its listed files. A local source's folder that
  // is still on disk (emptied, or holding only excluded files) is named file by file, so a file written
  // there since the listing is not deleted; a host's folders are known only from its files, and rsync
  // empties a named folder the host still has of what the host lacks (deleteArgv's --delete).
  const named = !plan.delete.length ? [] : source.where === 'local' ? deletionTargetsAt(plan, source.path) : deletionTargets(plan, source.paths);
  const { here, targets } = splitPullTargets(pair, direction, plan, named);
  const { send: files, delete: deletions } = (adapter.files as NonNullable<Adapter['files']>).transfer(pair, direction, plan, o.plan, { tree, deleteTargets: targets });
  // A push's only: a relayed pull broke off mid-transfer on most runs ("connection unexpectedly
  // closed", review 37), where the same pull over its own session did not.
  const relay = held !== undefined && direction === 'push' && sending.length > 0 && relayFits(pair, plan, files);
  // The verify's read of a local source, taken while the tool sends (early-hash.ts); not for --full, which
  // reads after, nor for an incremental plan, whose few files are read after the transfer.
  // LABSYNC_EARLY_HASH=0: read it after the transfer instead, as before (to measure what the overlap pays).
  // Nor where change times prove nothing (FUSE, FAT): a rewrite after the read could keep the key (review 51).
  const early = sending.length && process.env.LABSYNC_EARLY_HASH !== '0' && !planned.incremental && o.verify && pair.verify === 'checksum' && !full && source.where === 'local' && !source.missing && !source.unkept ? hashWhileSending(source, earlyFiles(plan)) : undefined;
  const paced = early ? { ...ctx, emit: pacedBy(early, ctx.emit) } : ctx;
  if (sending.length) {
    o.emit({ kind: 'pair_step', pair: pair.name, step: direction === 'pull' ? 'pulling' : 'pushing' });
    const sent = await sendFiles(pair, adapter, o, files, relay ? held : undefined, early, paced, show, moved);
    if ('stop' in sent) return { ...sent.stop, changes };
    after = sent.after;
  }
  // Deletions only after every transfer succeeded (the --delete-delay promise). A pull's are made here,
  // file by file (local-delete.ts); a push's by the tool at the remote.
  if (here.length) await deletePlannedUnder(pair, plan, here, o.plan.stamp, o.emit);
  if (deletions.length && targets.length) {
    const stop = await move(adapter, deletions, ctx, show, moved);
    if (stop) return { ...stop, changes };
  }
  const tally = (): Omit<Moved, 'written'> => ({ attempts: moved.attempts, files: moved.files, bytes: moved.bytes, warnings: moved.warnings });
  const wrote = moved.written;
  const base = { ...tally(), changes };
  if (!o.verify || pair.verify === 'none') return { status: 'ok', ...base };
  const mode = pair.verify;
  // Nothing moved: the listings just taken are the sides as they are. Else list again (a local destination only where the
  // transfer wrote, a local source where ctime moved since its listing: listing-after.ts; not for --full or a shard): a file
  // changed at the source meanwhile shows a new key and is compared.
  let sides: Sides = { local, remote };
  // Not relayed (a large or many-call transfer, deletions, a relay that failed): the held session lists.
  if (!isEmptyPlan(plan)) after ??= held ? listAgain(pair, held) : undefined;
  // The early reads finish while the sides are listed again; they go into the source's cache, which the new listing takes over.
  // The new sides only through `sides`: one listed again byte for byte as before is dropped for the
  // earlier one below, and its raw listing (73 MB at 1M files) must not stay reachable from this frame.
  let read: Awaited<NonNullable<typeof early>['done']> | undefined;
  let there: Promise<Listed> | undefined;
  const listing = isEmptyPlan(plan) ? sides : listBoth(pair, ctx, {
    found: full || o.shardRun ? undefined : statsAfter(pair, direction, { local, remote }, touchedBy(plan, wrote)),
    earlier: { local, remote },
    held: after ? { answer: after } : undefined,
    seen: (r) => (there = r),
  });
  // The caches' rewrites and the listings to keep, made while those listings run (incremental-prepare.ts,
  // incremental-prepare-far.ts): each only put in place when the verify asks for exactly it.
  // LABSYNC_PREPARE=0: all made after the verify, as before; LABSYNC_PREPARE_FAR=0: the far side's and the listings.
  const afterThere = there?.then((l) => ('side' in l ? carryFresh(unchanged(l.side, remote), remote) : undefined), () => undefined);
  const ahead = planned.incremental && sending.length && direction === 'push' && !full && mode === 'checksum' && process.env.LABSYNC_PREPARE !== '0' ? prepareAhead(pair, planned.incremental, local, afterThere, provedBy(writtenIn(planned.incremental.sourceKeys, direction, wrote, source.nowMs), source), ctx) : undefined;
  sides = await Promise.all([listing, early?.done]).then(([s, r]) => {
    read = r;
    return s;
  });
  mark('listed again');
  if ('stop' in sides) {
    await ahead?.drop();
    return { ...base, ...sides.stop };
  }
  // The source listed again byte for byte as before (the usual case): keep the listing already parsed.
  // The host listed anew keeps what its first listing's call hashed, under the same keys (sides.ts carryFresh).
  if ('local' in sides) sides = { local: unchanged(sides.local, local), remote: carryFresh(unchanged(sides.remote, remote), remote) };
  if ('local' in sides && read) sides = direction === 'push' ? { ...sides, local: withEarly(sides.local, read) } : { ...sides, remote: withEarly(sides.remote, read) };
  // An incremental plan knows the source keys of what it sent (writtenFrom would parse the whole source listing).
  const written = provedBy(planned.incremental ? writtenIn(planned.incremental.sourceKeys, direction, wrote, source.nowMs) : writtenFrom(direction === 'push' ? local : remote, direction, wrote), source);
  // A host without sha256sum (or find): rsync's own checksum comparison answers, as before issue 12.
  // A shard answers for its slice: drift in another worker's files is that worker's to fix.
  const mine = (v: VerifyResult): VerifyResult => (o.shardRun ? sliceVerify(v, o.shardRun.shard, pair, direction, deletionKey(source.paths)) : v);
  let small: ReturnType<typeof judgedFor> | undefined;
  try {
    small = 'local' in sides && planned.incremental && !full && mode === 'checksum' ? judgedFor(await verifyIncremental(pair, sides.local, sides.remote, ctx, written, planned.incremental?.inc, ahead), pair, direction) : undefined;
  } finally {
    // Not taken (drift, the whole comparison, a stop, a throw): their temp files and open handles go.
    await ahead?.drop();
  }
  let verified = small ?? ('local' in sides ? await verifyListed(pair, direction, sides.local, sides.remote, mode, full, ctx, written) : undefined) ?? (await verifyPair(adapter, pair, direction, ctx, o.plan));
  if ('stop' in verified) return { ...base, ...verified.stop };
  verified = mine(verified);
  if (verified.status === 'drift') {
    const verifyAgain = async (repaired: readonly string[]): Promise<VerifyResult | { stop: Body }> => {
      const relisted = await listBoth(pair, ctx, { found: 'local' in sides && !o.shardRun && !full ? statsAfter(pair, direction, sides, touchedBy(filesPlan(repaired, 'content'))) : undefined });
      if ('stop' in relisted) return relisted;
      const v = ('local' in relisted ? await verifyListed(pair, direction, relisted.local, relisted.remote, mode, false, ctx) : undefined) ?? (await verifyPair(adapter, pair, direction, ctx, o.plan));
      return 'stop' in v ? v : mine(v);
    };
    const repaired = await repairOnce({ pair, adapter, direction, o, ctx, show, moved, sending, verifyAgain, warnings: base.warnings }, verified);
    if ('stop' in repaired) return { ...base, ...repaired.stop };
    verified = repaired;
  }
  // Counted in bytesHashed already (the side's fresh bytes); said apart so a reader sees where the read went.
  if (read?.bytes && verified.bytesHashed && verified.proof !== 'tool') verified = { ...verified, readWhileSending: read.bytes };
  if (verified.status === 'drift') {
    const unplanned = o.seam?.kind === 'apply' ? '; apply moves only the files its plan lists: make a new plan (plan --save) to send these' : '';
    return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(verified, pair, direction)}${unplanned}`, verify: verified, ...base, ...tally() };
  }
  return { status: 'ok', verify: { ...verified, work: workSince(planned.began) }, ...base, ...tally() };
}

/** `again` when it differs from `before`; else `before`, whose paths, keys and cache are already read (its older clock only widens the racy window). */
const unchanged = (again: Side, before: Side): Side => (again.rawDigest !== undefined && again.rawDigest === before.rawDigest && again.missing === before.missing ? before : again);
