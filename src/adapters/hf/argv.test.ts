import { describe, expect, it } from 'vitest';
import type { PairPlan } from '../../plan/types.js';
import type { ResolvedPair } from '../../types.js';
import { downloadArgv, hfEnv, listArgv, literal, uploadArgv } from './argv.js';

const pair = (path = ''): ResolvedPair => ({
  name: 'release', local: '/lab/models/release', root: '/lab',
  remote: { type: 'hf', repo: 'org/m', repoType: 'model', revision: 'main', path, create: false },
} as unknown as ResolvedPair);
const f = (path: string) => ({ path, size: 1, reason: 'missing' as const });
const plan = (send: string[], del: string[] = []): PairPlan => ({ send: send.map(f), replace: [], delete: del.map(f), sourceFiles: 0, destFiles: 0, sourceDigest: '', destDigest: '' });
const text = { summary: 'labsync push release', description: 'pair: release' };

describe('hf argv', () => {
  it('uploads exactly the planned files and deletes in the same commit, names taken literally', () => {
    const args = uploadArgv(pair(), plan(['a [1].bin', '-dash.txt'], ['old*.bin']), text);
    expect(args.slice(0, 8)).toEqual(['upload', 'org/m', '/lab/models/release', '.', '--repo-type', 'model', '--revision', 'main']);
    expect(args).toContain('--include=a [[]1].bin');
    expect(args).toContain('--include=-dash.txt');
    expect(args).toContain('--delete=old[*].bin');
    expect(args.at(-1)).toBe('--json');
  });

  it('a push that only deletes sends no file; a subfolder is the path in the repo', () => {
    const args = uploadArgv(pair('ckpt'), plan([], ['x']), text);
    expect(args[3]).toBe('ckpt');
    expect(args.filter((a) => a.startsWith('--include='))).toEqual(['--include=/']);
  });

  it('downloads exactly the planned files at the revision', () => {
    expect(downloadArgv(pair(), ['w?.bin'])).toEqual(['download', 'org/m', '--repo-type', 'model', '--revision', 'main', '--local-dir', '/lab/models/release', '--force-download', '--include=w[?].bin']);
    // At the commit the plan was listed at (the branch may move before the download).
    const listedAt = 'a'.repeat(40);
    expect(downloadArgv(pair(), ['w.bin'], listedAt).slice(0, 6)).toEqual(['download', 'org/m', '--repo-type', 'model', '--revision', listedAt]);
    expect(literal('plain/name.txt')).toBe('plain/name.txt');
  });

  it('lists from a script on stdin, bounded by the stall timeout in seconds', () => {
    expect(listArgv({ type: 'hf', repo: 'org/m', repoType: 'dataset', revision: 'v1', path: 'sub', create: false }, 120_000)).toEqual(['-', 'org/m', 'dataset', 'v1', 'sub', '120']);
  });

  it('turns off Xet, telemetry and the update check, and keeps HF_HOME out of ~/.cache/huggingface', () => {
    const env = hfEnv({ root: '/lab' }, { HOME: '/home/u' });
    expect(env).toMatchObject({ HF_HUB_DISABLE_XET: '1', HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_UPDATE_CHECK: '1', HF_HOME: '/lab/.labsync/hf-home', HF_TOKEN_PATH: '/home/u/.cache/huggingface/token' });
    expect(hfEnv({ root: '/lab' }, { HF_HOME: '/mine' }).HF_HOME).toBeUndefined();
    // huggingface_hub's own default home is $XDG_CACHE_HOME/huggingface when set: `hf auth login` wrote the token there.
    expect(hfEnv({ root: '/lab' }, { HOME: '/home/u', XDG_CACHE_HOME: '/scratch/u/.cache' }).HF_TOKEN_PATH).toBe('/scratch/u/.cache/huggingface/token');
  });
});
