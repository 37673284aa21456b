// `labsync check` of one pair: only the comparison (SPEC §6), through both sides' listings where
// labsync lists them, else the tool's own comparison.
import type { Adapter } from '../adapters/types.js';
import type { Direction, ResolvedPair } from '../types.js';
import type { AttemptContext } from './attempt.js';
import { describeDrift, sayUnproven, verifyPair } from './compare-pair.js';
import type { VerifyResult } from './events.js';
import { fullCheckDue } from './full-check.js';
import type { Body } from './outcome.js';
import { directionOf, type PairRunOptions } from './pair-options.js';
import { listBoth, plansItself, verifyListed } from './plan-run.js';
import { rememberSumsDigest } from './receipt.js';
import { sliceVerify } from './shard-plan.js';
import { snapshotRead } from './snapshots.js';
import { withFastCipher } from './ssh-cipher.js';
import { holdsSession, takeSession } from './ssh-held.js';
import { recognisePair } from './unchanged.js';

/** `labsync check`: only the comparison (SPEC §6). A pair with verify: none is still checked, by checksum. */
export async function checkBody(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, commands: string[]): Promise<Body> {
  const direction = directionOf(pair, 'check');
  const read = await snapshotRead(pair, { adapter, pair, emit: o.emit, redact: o.redact, signal: o.signal, progress: false }, o, () => undefined);
  if ('stop' in read) return read.stop;
  if ('none' in read) return { status: 'drift', error: read.none };
  // The cipher a push's connections take (plan-run.ts): the held session's ssh command is then the very
  // same as the push's, so cron's push then check starts it early from either's hint (exec/early.ts).
  const checked = withFastCipher({ ...read.pair, verify: pair.verify === 'size' ? ('size' as const) : ('checksum' as const) });
  const ctx: AttemptContext = { adapter, pair: checked, emit: o.emit, redact: o.redact, signal: o.signal, progress: false };
  // The remote's listing says which lister took it (labsync's own S3 listing or the tool's) in --json's commands.
  const got = (await checkListed(checked, adapter, direction, ctx, o)) ?? (await verifyPair(adapter, checked, direction, ctx, o.plan, (l) => void commands.push(...l)));
  if ('stop' in got) return got.stop;
  // `check --shard K/N` answers for its slice: what the other workers move is theirs to check.
  const v = o.shard ? sliceVerify(got, o.shard, pair, direction) : got;
  if (v.status === 'skipped') return { status: 'skipped', error: `${pair.tool} cannot compare this remote without downloading it` };
  const warnings = sayUnproven(v, pair, o.emit);
  const snapshot = read.name ? { snapshot: read.name } : {};
  return v.status === 'drift'
    ? { status: 'drift', error: `differs: ${describeDrift(v, checked, direction)}`, verify: v, warnings, ...snapshot }
    : { status: 'in_sync', verify: v, warnings, ...snapshot };
}

/** Both sides listed once and compared through their hash caches; undefined where the tool's own comparison must answer. */
async function checkListed(pair: ResolvedPair, adapter: Adapter, direction: Direction, ctx: AttemptContext, o: PairRunOptions): Promise<VerifyResult | { stop: Body } | undefined> {
  if ((direction !== 'push' && direction !== 'pull') || (pair.remote.type !== 'ssh' && pair.remote.type !== 'local') || !plansItself(pair, adapter) || pair.verify === 'none') return undefined;
  const full = fullCheckDue(pair, o.plan.full);
  // Local folders keep their tree summaries (unchanged.ts): an unchanged local pair is answered from
  // its two find listings without parsing either or loading a cache; else those listings are compared.
  const known = await recognisePair(pair, ctx, full);
  if ('same' in known) {
    if (known.same.sums) rememberSumsDigest(pair, known.same.sums, known.same.files);
    return { status: 'in_sync', checked: known.same.files, missing: [], extra: [], changed: [], mode: pair.verify, proof: 'cached', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } };
  }
  // The host lists in a held session, as a push's does: the same ssh command, so bin/labsync.js may have
  // started it already (exec/early.ts); it ends as soon as the listing is in.
  const hold = holdsSession(pair, { dryRun: false, seam: false, shard: Boolean(o.shard) });
  const listed = await listBoth(pair, ctx, { found: known.stats, held: hold ? { hold: true } : undefined });
  if ('unsupported' in listed) return undefined;
  if ('stop' in listed) return listed;
  takeSession(listed.remote)?.session.release();
  // check --full compares content even where the pair's own verify goes by size.
  return verifyListed(pair, direction, listed.local, listed.remote, full ? 'checksum' : pair.verify, full, ctx);
}
