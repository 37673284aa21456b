// `compress: true` on an ssh pair: both ends' rsync are asked once per run which compression they
// offer, and the answer rides on the pair (adapters stay pure: they read pair.compressChoice).
import type { ResolvedPair } from '../types.js';
import type { AttemptContext } from './attempt.js';
import { probe, type Body } from './outcome.js';

const asked = new Map<string, Promise<{ value: string | undefined } | { stop: Body }>>();

/** Keyed by run and host: pairs of one run on one host share the answer; the next run asks again. */
export async function withCompressChoice(pair: ResolvedPair, stamp: string, ctx: AttemptContext): Promise<{ pair: ResolvedPair } | { stop: Body }> {
  if (!pair.compress || pair.remote.type !== 'ssh' || !ctx.adapter.compressChoice) return { pair };
  const r = pair.remote;
  const key = `${stamp}\0${r.user ?? ''}@${r.host}:${r.port ?? 22}`;
  let answer = asked.get(key);
  if (!answer) {
    answer = probe(ctx.adapter.compressChoice(pair), ctx);
    asked.set(key, answer);
    // Only this run's answers are kept (watch runs for days).
    for (const k of asked.keys()) if (!k.startsWith(`${stamp}\0`)) asked.delete(k);
  }
  const got = await answer;
  if ('stop' in got) return got;
  return { pair: got.value ? { ...pair, compressChoice: got.value } : pair };
}
