// Gathers a receipt's facts for one finished run: the local tree's sums digest, git HEAD, tool versions.
import { adapterFor } from '../adapters/index.js';
import { makeRedactor, type Redactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import { writeReceipt, type Receipt } from '../state/receipts.js';
import type { ResolvedPair } from '../types.js';
import { hashTree } from '../verify/hash-tree.js';
import { sumsDigestOf } from '../verify/sums-file.js';
import { cacheDir, treeExcludes } from './compare-pair.js';
import type { PairResult } from './events.js';

const versions = new Map<string, Promise<string | undefined>>();

/** Each tool's version, asked once per run of labsync. */
function versionOf(tool: ResolvedPair['tool'], redact: Redactor): Promise<string | undefined> {
  let v = versions.get(tool);
  if (!v) {
    const probe = adapterFor(tool)?.version();
    v = probe
      ? Promise.all(probe.commands.map((c) => run(c, { redact, timeoutMs: 15_000 }))).then((outs) => (outs.every((o) => o.exitCode === 0) ? probe.parse(outs) : undefined))
      : Promise.resolve(undefined);
    versions.set(tool, v);
  }
  return v;
}

async function gitHead(dir: string, redact: Redactor): Promise<string | null> {
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

/** For a tree recognised from its summary (unchanged.ts): the digest it was summed up with. */
export function rememberSumsDigest(pair: ResolvedPair, digest: string, files: number): void {
  seen.set(`${pair.root}\0${pair.name}`, { digest, files });
}


export async function recordReceipt(pair: ResolvedPair, result: PairResult, stamp: string, redact: Redactor = makeRedactor(process.env)): Promise<string> {
  const ok = result.status === 'ok';
  const known = ok ? seen.get(`${pair.root}\0${pair.name}`) : undefined;
  const tree = known || !ok ? undefined : await hashTree(pair.local, { excludes: treeExcludes(pair), sha256: true, cacheDir: cacheDir(pair) });
  const version = await versionOf(pair.tool, redact);
  const receipt: Receipt = {
    pair: pair.name, category: pair.category, tool: pair.tool, action: result.action, status: result.status,
    startedAt: result.startedAt, durationMs: result.durationMs, local: pair.local, remote: redact(pair.remoteLabel),
    files: result.files, bytes: result.bytes,
    gitCommit: await gitHead(pair.local, redact),
    sumsDigest: known ? known.digest : tree ? (sumsDigestOf(tree.map((f) => f.path), (i) => tree[i]?.sha256) ?? null) : null,
    sumsFiles: known ? known.files : tree ? tree.length : null,
    toolVersions: version ? { [pair.tool]: version } : {},
    proof: result.verify?.status === 'in_sync' ? (result.verify.proof ?? 'tool') : null,
    bytesHashed: result.verify?.bytesHashed ?? null,
  };
  return writeReceipt(pair.root, `${stamp}`, receipt);
}
