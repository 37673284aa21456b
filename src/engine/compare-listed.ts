// The verifier on two listed sides (issue 12): a file whose stat key is the one it had when last
// hashed is answered from that side's cache; only the rest is read — here by the workers, on an ssh
// host by sha256sum. `full` reads everything (bit rot). Never a wrong answer from a stale key: a
// cache row is found only under the exact (size, mtime, ctime, inode) it was hashed with.
import type { VerifyReport } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import type { AttemptContext } from './attempt.js';
import type { Body } from './outcome.js';
import { rememberLocalSums } from './receipt.js';
import { cachedSha, hashOn, type Side } from './sides.js';

export interface BytesHashed { readonly local: number; readonly remote: number }

export interface ListedReport extends VerifyReport { readonly bytesHashed: BytesHashed }

export type Compared = { value: ListedReport } | { unsupported: string } | { stop: Body };

/** local vs remote: missing = here only, extra = there only, changed = different content (or size). */
export async function compareListed(pair: ResolvedPair, local: Side, remote: Side, mode: 'checksum' | 'size', full: boolean, ctx: AttemptContext): Promise<Compared> {
  const there = new Map<string, number>();
  remote.paths.forEach((p, j) => there.set(p, j));
  const missing: string[] = [];
  const changed: string[] = [];
  const pending: [path: string, here: string | undefined, far: string | undefined][] = [];
  const needHere: string[] = [];
  const needThere: string[] = [];
  local.paths.forEach((p, i) => {
    const j = there.get(p);
    if (j === undefined) return void missing.push(p);
    there.delete(p);
    if (local.keys[i * 4] !== remote.keys[j * 4]) return void changed.push(p);
    if (mode === 'size') return;
    // --full: only what was read in this run counts (hashes taken with the listing just now).
    const a = full ? local.fresh?.get(p)?.sha256 : cachedSha(local, i);
    const b = full ? remote.fresh?.get(p)?.sha256 : cachedSha(remote, j);
    // Both known: judged now, nothing kept (a million pending entries held ~0.3 GB on a 1M-file tree).
    if (a && b) return void (a !== b && changed.push(p));
    if (!a) needHere.push(p);
    if (!b) needThere.push(p);
    pending.push([p, a, b]);
  });
  const extra = [...there.keys()];
  const [here, far] = await Promise.all([hashOn(local, pair, needHere, ctx), hashOn(remote, pair, needThere, ctx)]);
  if ('stop' in here) return here;
  if ('stop' in far) return far;
  if ('unsupported' in here) return here;
  if ('unsupported' in far) return far;
  for (const [p, a, b] of pending) {
    const x = a ?? here.sha256.get(p);
    const y = b ?? far.sha256.get(p);
    // Gone from the far side since the listing: missing there; gone here: nothing to compare with.
    if (y === undefined && x !== undefined) missing.push(p);
    else if (x !== y) changed.push(p);
  }
  await saveCaches(local, remote, ctx, pair);
  if (mode === 'checksum') {
    // The receipt's sums digest from what was just proved, when every local file's hash is known.
    rememberLocalSums(pair, local.paths, (i) => cachedSha(local, i) ?? here.sha256.get(local.paths[i] as string));
  }
  const bytesHashed = { local: here.bytes + (local.freshBytes ?? 0), remote: far.bytes + (remote.freshBytes ?? 0) };
  return { value: { checked: local.paths.length, missing: missing.sort(), extra: extra.sort(), changed: changed.sort(), bytesHashed } };
}

async function saveCaches(local: Side, remote: Side, ctx: AttemptContext, pair: ResolvedPair): Promise<void> {
  const warn = (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });
  for (const side of [local, remote]) {
    if (side.missing) continue;
    side.cache.retain(side.paths.map((path) => ({ path })));
    await side.cache.save(side.cacheRoot, warn);
  }
}
