import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import type { PairPlan, PlannedFile } from '../../plan/types.js';
import { PARTIAL_MIN_BYTES, rsync, worthResuming } from './index.js';

const pair: ResolvedPair = {
  name: 'm', category: 'models', tool: 'rsync', root: '/lab', local: '/lab/m', remoteLabel: 'gpu:m',
  remote: { type: 'ssh', host: 'gpu', user: 'u', path: '/srv/m', sshOptions: [] },
  mode: 'push', delete: false, maxDelete: { percent: 50 }, backup: false, exclude: [], retries: 0, retryDelayMs: 1000,
  timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
};
const ctx = { stamp: '2026-11-25T10-00-00Z', tty: false, verbose: false, resync: false, full: false };

const file = (path: string, size: number): PlannedFile => ({ path, size, reason: 'missing' });
const planOf = (send: PlannedFile[], replace: PlannedFile[] = []): PairPlan => ({ send, replace, delete: [], sourceFiles: send.length + replace.length, destFiles: replace.length, sourceDigest: '', destDigest: '' });
const partialArg = (plan: PairPlan, how = {}): boolean => (rsync.files?.transfer(pair, 'push', plan, ctx, how).send[0]?.args ?? []).includes('--partial-dir=.rsync-partial');

describe('rsync partial files', () => {
  it('keeps what arrived of a stopped file aside only when a planned file is large enough to resume', () => {
    const small = planOf([file('a.json', 4096), file('b.csv', PARTIAL_MIN_BYTES - 1)]);
    expect(worthResuming(small, {})).toBe(false);
    expect(partialArg(small)).toBe(false);
    expect(partialArg(small, { tree: true })).toBe(false);
    const big = planOf([file('a.json', 4096), file('w.ckpt', PARTIAL_MIN_BYTES)]);
    expect(partialArg(big)).toBe(true);
    expect(partialArg(big, { tree: true })).toBe(true);
    // A replacement counts as a send does.
    expect(partialArg(planOf([file('a.json', 1)], [file('w.ckpt', 5 * PARTIAL_MIN_BYTES)]))).toBe(true);
  });

  it('keeps them between two local folders too, where rsync resumes nothing but removes the partial it finds of a file it sends', () => {
    const local = { ...pair, remote: { type: 'local' as const, path: '/nas/m' } };
    expect((rsync.files?.transfer(local, 'push', planOf([file('w.ckpt', 8 * PARTIAL_MIN_BYTES)]), ctx).send[0]?.args ?? []).includes('--partial-dir=.rsync-partial')).toBe(true);
  });

  it('without a partial folder of its own, hides those earlier runs left as rsync would (perishable), so a first copy walking the tree never sends them', () => {
    const args = (plan: PairPlan, how = {}): readonly string[] => rsync.files?.transfer(pair, 'push', plan, ctx, how).send[0]?.args ?? [];
    const small = planOf([file('a.json', 4096)]);
    expect(args(small, { tree: true })).toContain('--filter=-p .rsync-partial/');
    expect(args(small)).toContain('--filter=-p .rsync-partial/');
    // With --partial-dir rsync adds that rule itself.
    expect(args(planOf([file('w.ckpt', PARTIAL_MIN_BYTES)]), { tree: true }).some((a) => a.startsWith('--filter'))).toBe(false);
  });

  it('keeps none for a drain (whole files only), and always for a repair (its plan carries no sizes)', () => {
    const big = planOf([file('w.ckpt', 8 * PARTIAL_MIN_BYTES)]);
    expect(partialArg(big, { whole: true })).toBe(false);
    expect(partialArg(planOf([file('w.ckpt', 0)]), { repair: true })).toBe(true);
  });
});
