// The verifier for one pair (SPEC §6): are the two sides the same bytes?
import type { Adapter, PlanContext, VerifyReport } from '../adapters/types.js';
import { storeLister } from '../adapters/files.js';
import type { Direction, ResolvedPair } from '../types.js';
import { compareEntries, type Entry } from '../verify/compare.js';
import { hashTree, treeStats, type HashedFile, type HashTreeOptions, type StatListing } from '../verify/hash-tree.js';
import { hasSummary, recognise } from '../verify/tree-summary.js';
import type { AttemptContext } from './attempt.js';
import type { Emit, VerifyResult } from './events.js';
import { compareS3 } from './compare-s3.js';
import { digestLister, localListing, remoteListing, withBlobIds, type Show } from './listings.js';
import { probe, type Body } from './outcome.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import { fullCheckDue, recordFullCheck } from './full-check.js';
import { compareLinks, listLinks } from '../verify/links.js';

function sideOptions(pair: ResolvedPair, mode: 'checksum' | 'size', ctx: AttemptContext, digests: { md5?: boolean; etagPartSize?: number } = {}): HashTreeOptions {
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  return { excludes: treeExcludes(pair), sha256: !digests.md5, ...digests, cacheDir: cacheDir(pair), statOnly: mode === 'size', warn };
}

/**
 * Both trees of a local pair, scanned at once. When both were summed up before
 * (tree-summary.ts), both are stat-ed first: if neither changed and their content digests match, they
 * hold the same bytes and neither cache needs loading; otherwise the scan goes on from those stats.
 */
async function bothTrees(pair: ResolvedPair, remotePath: string, mode: 'checksum' | 'size', ctx: AttemptContext, full: boolean, hashed: { local: { bytes: number }; remote: { bytes: number } }): Promise<{ here: readonly HashedFile[]; there: readonly HashedFile[] } | { same: number }> {
  // A full check reads every file of both trees again: no summary or cache answers for any.
  const o: HashTreeOptions = { ...sideOptions(pair, mode, ctx), summary: mode === 'checksum', fresh: full };
  let listed: [StatListing, StatListing] | undefined;
  if (mode === 'checksum' && !full && hasSummary(cacheDir(pair), pair.local) && hasSummary(cacheDir(pair), remotePath)) {
    const [here, there] = await Promise.all([treeStats(pair.local, o.excludes), treeStats(remotePath, o.excludes)]);
    const [a, b] = await Promise.all([recognise(here, cacheDir(pair), o.warn), recognise(there, cacheDir(pair), o.warn)]);
    if (a && b && a.sha256 === b.sha256) return { same: a.files };
    listed = [here.listing(), there.listing()];
  }
  const [here, there] = await Promise.all([hashTree(pair.local, { ...o, hashed: hashed.local }, listed?.[0]), hashTree(remotePath, { ...o, hashed: hashed.remote }, listed?.[1])]);
  return { here, there };
}

/**
 * Local↔local: both trees hashed by labsync (cached); else the tool's comparison, else the remote's listing.
 * `plan.full` (check --full, or a due full_check): every local byte read again; the remote's too where
 * labsync reads it (a local folder) or the tool downloads it (rclone, mlflow); an S3 or Hub remote's
 * checksums are those the store recorded (its listing), not downloaded.
 */
export async function compareSides(adapter: Adapter, pair: ResolvedPair, mode: 'checksum' | 'size', ctx: AttemptContext, plan: PlanContext, show?: Show): Promise<{ value: VerifyReport } | { stop: Body } | undefined> {
  const full = plan.full && mode === 'checksum';
  if (pair.remote.type === 'local' && adapter.capabilities.copiesFiles) {
    const hashed = { local: { bytes: 0 }, remote: { bytes: 0 } };
    // rsync --archive copies symlinks, which labsync's lists leave out: compared beside the files by
    // their targets (a review found a re-pointed or deleted link in sync by `check`, put back by the
    // next push). rclone copies none without -l.
    const [sides, links] = await Promise.all([bothTrees(pair, pair.remote.path, mode, ctx, full, hashed), adapter.tool === 'rsync' ? linksOf(pair, pair.remote.path) : undefined]);
    const bytesHashed = { local: hashed.local.bytes, remote: hashed.remote.bytes };
    // labsync's own comparison of both trees' hash caches, not the tool's: the receipt names it (proof).
    const files: VerifyReport = 'same' in sides ? { checked: sides.same, missing: [], extra: [], changed: [] } : compareEntries(sides.here, sides.there, mode);
    return { value: { ...(links ? withLinks(files, links) : files), bytesHashed, proof: full ? 'full' : 'cached' } as VerifyReport };
  }
  // Where the remote lists checksums (S3 ETags, rclone's listed MD5s), one listing of it and the local
  // hash cache answer: an unchanged local file is not read. A full check reads every local file again,
  // or asks the tool to download where it can (rclone check --download, mlflow).
  const lister = digestLister(adapter, pair, pair.mode);
  if (lister && !(plan.full && adapter.verify)) {
    const hashed = { bytes: 0 };
    // Both sides at once: the local walk (and any hashing) overlaps the server's answer.
    const [remote, listed] = await Promise.all([remoteListing(lister, ctx, show), localListing(pair, mode === 'size' ? {} : lister.local, ctx, hashed, full)]);
    if ('stop' in remote) return remote;
    // The files may match, yet what the pair names is not there (a branch not made, an alias not set).
    if (remote.unset) return { stop: { status: 'drift', error: `${remote.unset} at ${pair.remoteLabel}` } };
    const local = await withBlobIds(pair, listed, remote.value, hashed);
    // The remote's checksums come with its listing: nothing is read there (but for S3 objects whose
    // ETag proves nothing, whose stored checksums compareS3 reads one by one, and their local files).
    const judged = await compareListed(adapter, pair, local.entries, remote.value.entries, mode, ctx, hashed);
    const bytesHashed = { local: hashed.bytes, remote: 0 };
    return 'stop' in judged ? judged : { value: { ...judged.value, bytesHashed, proof: full ? 'full' : 'cached' } as VerifyReport };
  }
  // The tool's full comparison reads the files only: an alias that is not set (mlflow) is asked of
  // the listing first, as the cached path does, so `check --full` says drift where `check` does.
  if (lister && adapter.verify && pair.tool === 'mlflow' && pair.alias) {
    const remote = await remoteListing(lister, ctx, show);
    if ('stop' in remote) return remote;
    if (remote.unset) return { stop: { status: 'drift', error: `${remote.unset} at ${pair.remoteLabel}` } };
  }
  if (adapter.verify) return probe(adapter.verify(pair, mode, plan), ctx);
  return undefined;
}

/** Both local trees' symlinks (path → target), the pair's excludes applied. */
async function linksOf(pair: ResolvedPair, remotePath: string): Promise<{ here: Map<string, string>; there: Map<string, string> }> {
  const [here, there] = await Promise.all([listLinks(pair.local, treeExcludes(pair)), listLinks(remotePath, treeExcludes(pair))]);
  return { here, there };
}

/** A files' comparison with the links' drift added (each link here counted as checked). */
function withLinks(files: VerifyReport, links: { here: Map<string, string>; there: Map<string, string> }): VerifyReport {
  const d = compareLinks(links.here, links.there);
  return { ...files, checked: files.checked + links.here.size, missing: [...files.missing, ...d.missing], extra: [...files.extra, ...d.extra], changed: [...files.changed, ...d.changed] };
}

/** Two listings compared: S3 objects whose ETag proves nothing go through the store's own checksums (compareS3). */
/** `hashed`: counts the local bytes compareS3 reads. */
export async function compareListed(adapter: Adapter, pair: ResolvedPair, local: readonly Entry[], remote: readonly Entry[], mode: 'checksum' | 'size', ctx: AttemptContext, hashed?: { bytes: number }): Promise<{ value: VerifyReport } | { stop: Body }> {
  const stored = pair.remote.type === 's3' && mode === 'checksum' ? storeLister(adapter, pair, pair.mode)?.checksums : undefined;
  if (stored) return compareS3(stored, pair, local, remote, ctx, hashed);
  return { value: compareEntries(local, remote, mode) };
}

/**
 * What counts as drift depends on which way the pair moves: a push promises the remote has what is
 * here, a pull the reverse; a mirror and a bisync also promise nothing else is there.
 */
export function driftOf(r: VerifyReport, pair: ResolvedPair, direction: Direction): { missing: string[]; extra: string[]; changed: string[] } {
  const whole = pair.delete || direction === 'bisync';
  return {
    missing: direction !== 'pull' || whole ? [...r.missing] : [],
    extra: direction === 'pull' || whole ? [...r.extra] : [],
    changed: [...r.changed],
  };
}

export async function verifyPair(adapter: Adapter, pair: ResolvedPair, direction: Direction, ctx: AttemptContext, plan: PlanContext, show?: Show): Promise<VerifyResult | { stop: Body }> {
  // check --full compares content even where the pair's own verify goes by size.
  const mode = pair.verify === 'none' ? undefined : plan.full ? 'checksum' : pair.verify;
  const skipped: VerifyResult = { status: 'skipped', checked: 0, missing: [], extra: [], changed: [] };
  if (!mode) return skipped;
  // check --full, or a pair's full_check that is due (full-check.ts): every byte read, then remembered as done.
  const full = plan.full || (mode === 'checksum' && fullCheckDue(pair, false));
  ctx.emit({ kind: 'pair_step', pair: pair.name, step: `verifying (${mode}${full ? ', every byte' : ''})` });
  const got = await compareSides(adapter, pair, mode, { ...ctx, progress: false }, full === plan.full ? plan : { ...plan, full }, show);
  if (!got) return skipped;
  if ('stop' in got) return got;
  if (full && mode === 'checksum') await recordFullCheck(pair, (message) => ctx.emit({ kind: 'warning', pair: pair.name, message }));
  const d = driftOf(got.value, pair, direction);
  const drift = d.missing.length + d.extra.length + d.changed.length > 0;
  return { ...got.value, status: drift ? 'drift' : 'in_sync', mode, proof: (got.value as VerifyResult).proof ?? (full && mode === 'checksum' ? 'full' : 'tool') };
}

/** The warning for files only their sizes could vouch for: "content not provable by the store: compared sizes …". */
export function describeUnproven(v: VerifyReport): string | undefined {
  const n = v.unproven?.length ?? 0;
  if (!n) return undefined;
  const first = (v.unproven ?? []).slice(0, 3).join(', ');
  return `content not provable by the store: compared sizes for ${n} file${n === 1 ? '' : 's'} (${first}${n > 3 ? ', …' : ''}): ${v.unprovenReason ?? 'the remote offers no checksum for them'}`;
}

/** Said once per pair, on stderr and in the result's warnings, whenever sizes were all a file could be checked by. */
export function sayUnproven(v: VerifyReport, pair: ResolvedPair, emit: Emit): string[] {
  const message = describeUnproven(v);
  if (!message) return [];
  emit({ kind: 'warning', pair: pair.name, message });
  return [message];
}

export function describeDrift(v: VerifyResult, pair: ResolvedPair, direction: Direction): string {
  const d = driftOf(v, pair, direction);
  const parts = [
    d.missing.length ? `${d.missing.length} missing on the remote` : '',
    d.extra.length ? `${d.extra.length} only on the remote` : '',
    d.changed.length ? `${d.changed.length} changed` : '',
  ].filter(Boolean);
  const first = [...d.changed, ...d.missing, ...d.extra].slice(0, 3).join(', ');
  return `${parts.join(', ')} (${first}${d.changed.length + d.missing.length + d.extra.length > 3 ? ', …' : ''})`;
}
