// Gathers a receipt's facts for one finished run: the local tree's sums digest, git HEAD, tool versions.
import { makeRedactor, type Redactor } from '../exec/redact.js';
import { endsKey } from '../state/ends.js';
import { run } from '../exec/run.js';
import { writeReceipt, type Receipt } from '../state/receipts.js';
import type { ResolvedPair } from '../types.js';
import { hashTree } from '../verify/hash-tree.js';
import { sumsDigestOf } from '../verify/sums-file.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import { ASK_GIT, readGitHead } from './git-head.js';
import { versionOf } from './versions.js';
import type { PairResult } from './events.js';

/** Asks the tool's version while the pair runs, so the receipt does not wait for it after. */
export function warmVersion(pair: ResolvedPair, redact: Redactor): void {
  versionOf(pair.tool, redact, pair.root).catch(() => undefined); // the receipt, which awaits it, reports a failure
}

/** From .git's files where they say it plainly (git-head.ts), else from git. */
async function gitHead(dir: string, redact: Redactor): Promise<string | null> {
  const read = readGitHead(dir);
  if (read !== ASK_GIT) return read;
  const out = await run({ tool: 'git', args: ['-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD'], cwd: '/', mutates: false, label: 'git HEAD' }, { redact, timeoutMs: 15_000 });
  return out.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(out.stdout.trim()) ? out.stdout.trim() : null;
}

/** The local tree's sums digest as the verify just saw the tree, by pair: no third listing, no list kept. */
const seen = new Map<string, { readonly digest: string; readonly files: number }>();

/** `shaAt(i)` is the digest of `paths[i]` (byte order): the digest is taken now, nothing per file is kept. Says whether every file had one. */
export function rememberLocalSums(pair: ResolvedPair, paths: readonly string[], shaAt: (i: number) => string | undefined): boolean {
  const digest = sumsDigestOf(paths, shaAt);
  if (digest) rememberSumsDigest(pair, digest, paths.length);
  return digest !== undefined;
}

/** For a tree recognised from its summary (unchanged.ts, side-summary.ts): the digest it was summed up with. */
export function rememberSumsDigest(pair: ResolvedPair, digest: string, files: number): void {
  seen.set(`${pair.root}\0${pair.name}`, { digest, files });
}

/** The remote's commit id at the end of a run (an hf repo's), by pair, from its last listing. */
const remoteCommits = new Map<string, string>();
/** Pairs whose commit is the one their push made: a listing after it (the verify's) may see a newer one of someone else's. */
const madeCommits = new Set<string>();
const pairKey = (pair: Pick<ResolvedPair, 'root' | 'name'>): string => `${pair.root}\0${pair.name}`;
export const rememberRemoteCommit = (pair: Pick<ResolvedPair, 'root' | 'name'>, commit: string): void => {
  if (!madeCommits.has(pairKey(pair))) remoteCommits.set(pairKey(pair), commit);
};
/** The commit this run's push made: the receipt's, whatever a listing after it sees. */
export const madeRemoteCommit = (pair: Pick<ResolvedPair, 'root' | 'name'>, commit: string): void => {
  remoteCommits.set(pairKey(pair), commit);
  madeCommits.add(pairKey(pair));
};
export const forgetRemoteCommit = (pair: Pick<ResolvedPair, 'root' | 'name'>): void => {
  remoteCommits.delete(pairKey(pair));
  madeCommits.delete(pairKey(pair));
};

export async function recordReceipt(pair: ResolvedPair, result: PairResult, stamp: string, redact: Redactor = makeRedactor(process.env), appliedPlan?: string): Promise<string> {
  const ok = result.status === 'ok';
  const known = ok ? seen.get(`${pair.root}\0${pair.name}`) : undefined;
  // What one run proved is not the next run's (watch runs many in one process).
  seen.delete(`${pair.root}\0${pair.name}`);
  const tree = known || !ok ? undefined : await hashTree(pair.local, { excludes: treeExcludes(pair), sha256: true, cacheDir: cacheDir(pair) });
  const [version, gitCommit] = await Promise.all([versionOf(pair.tool, redact, pair.root), gitHead(pair.local, redact)]);
  const receipt: Receipt = {
    pair: pair.name, category: pair.category, tool: pair.tool, action: result.action, status: result.status,
    startedAt: result.startedAt, durationMs: result.durationMs, local: pair.local, remote: redact(pair.remoteLabel), ends: endsKey(pair, redact),
    files: result.files, bytes: result.bytes,
    gitCommit,
    sumsDigest: known ? known.digest : tree ? (sumsDigestOf(tree.map((f) => f.path), (i) => tree[i]?.sha256) ?? null) : null,
    sumsFiles: known ? known.files : tree ? tree.length : null,
    toolVersions: version ? { [pair.tool]: version } : {},
    ...(result.movedBy ? { movedBy: result.movedBy } : {}),
    ...(result.record ? { registry: result.record } : {}),
    proof: result.verify?.status === 'in_sync' ? (result.verify.proof ?? 'tool') : null,
    bytesHashed: result.verify?.bytesHashed ?? null,
    ...(result.verify?.status === 'in_sync' && result.verify.unproven?.length ? { unproven: result.verify.unproven.length } : {}),
    ...(appliedPlan ? { appliedPlan } : {}),
    ...(result.left ? { left: result.left } : {}),
    ...(result.shard ? { shard: result.shard } : {}),
    ...(remoteCommits.has(pairKey(pair)) && result.status !== 'failed' ? { remoteCommit: remoteCommits.get(pairKey(pair)) as string } : {}),
  };
  // The next run of the pair (watch) takes its commit from its own listings, never this one's.
  forgetRemoteCommit(pair);
  return writeReceipt(pair.root, `${stamp}`, receipt);
}
