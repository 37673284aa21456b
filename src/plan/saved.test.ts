import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { parsePlan, planDigest, planText, staleness, type SavedPair } from './saved.js';
import type { PairPlan } from './types.js';

const D = (c: string): string => c.repeat(64);
const pair: SavedPair = {
  name: 'raw', category: 'data', tool: 'rsync', direction: 'push', remote: 'gpu:raw', fingerprint: D('f'),
  sourceDigest: D('a'), destDigest: D('b'), sourceFiles: 2, destFiles: 1,
  send: [{ path: 'new', size: 3, reason: 'missing' }], replace: [], delete: [], guard: { verdict: 'ok' },
};
const text = planText({ version: '0.1.0', createdAt: '2026-12-04T00:00:00.000Z', action: 'push', manifestFile: 'labsync.yaml', manifestSha256: D('c'), pairs: [pair] });

function refusal(t: string): string {
  try {
    parsePlan(t, 'plan.json');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('saved plans', () => {
  it('round-trips, and its digest is the sha256 of its bytes', () => {
    expect(parsePlan(text, 'plan.json').pairs[0]).toEqual(pair);
    expect(planDigest(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(planDigest(text)).not.toBe(planDigest(text.replace('"new"', '"other"')));
  });

  it('names the file and the problem for anything that is not a labsync plan', () => {
    expect(refusal('{"pairs": [')).toMatch(/^plan\.json: not valid JSON/);
    expect(refusal('[1,2]')).toMatch(/^plan\.json: not a labsync plan \(no "labsyncPlan" field\)/);
    expect(refusal('{"labsyncPlan": 9}')).toMatch(/^plan\.json: a labsync plan of format 9, this labsync reads format 1/);
    const bad = JSON.parse(text) as { pairs: { send: { size: unknown }[] }[] };
    (bad.pairs[0] as { send: { size: unknown }[] }).send[0] = { ...(bad.pairs[0]?.send[0] as object), size: -1 } as never;
    expect(refusal(JSON.stringify(bad))).toMatch(/^plan\.json: not a labsync plan: at pairs\.0\.send\.0\.size/);
    const twice = JSON.parse(text) as { pairs: unknown[] };
    twice.pairs.push(twice.pairs[0]);
    expect(refusal(JSON.stringify(twice))).toBe('plan.json: not a labsync plan: pair raw appears twice');
    expect(refusal(JSON.stringify({ ...JSON.parse(text), extra: 1 }))).toMatch(/at \(top\)/);
  });

  it('a plan is stale when either side lists differently, or when the same listings plan differently', () => {
    const saved: PairPlan = { ...pair };
    const labels = { source: 'raw', dest: 'gpu:raw' };
    expect(staleness(saved, { ...saved }, labels)).toBeUndefined();
    expect(staleness(saved, { ...saved, sourceDigest: D('0') }, labels)).toMatch(/the source \(raw\) changed since it was made; nothing was changed/);
    expect(staleness(saved, { ...saved, destDigest: D('0') }, labels)).toMatch(/: the destination \(gpu:raw\) changed/);
    expect(staleness(saved, { ...saved, sourceDigest: D('0'), destDigest: D('0') }, labels)).toMatch(/the source \(raw\) and the destination \(gpu:raw\) changed/);
    expect(staleness(saved, { ...saved, send: [] }, labels)).toMatch(/content changed since it was made though its size and time did not/);
    expect(staleness(saved, { ...saved, send: [{ path: 'new', size: 3, reason: 'size' }] }, labels)).toMatch(/content changed since it was made though its size and time did not/);
  });
});
