import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import { filesPlan } from '../../plan/changes.js';
import { rsync } from './index.js';
import { compressArgs, compressList, incompressible, SKIP_COMPRESS } from './compress.js';

const pair: ResolvedPair = {
  name: 'm', category: 'models', tool: 'rsync', root: '/lab', local: '/lab/m', remoteLabel: 'gpu:m',
  remote: { type: 'ssh', host: 'gpu', user: 'u', path: '/srv/m', sshOptions: [] },
  mode: 'push', delete: false, maxDelete: { percent: 50 }, backup: false, exclude: [], retries: 0, retryDelayMs: 1000,
  timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 }, compress: true,
};
const ctx = { stamp: '2026-11-25T10-00-00Z', tty: false, verbose: false, resync: false, full: false };

describe('rsync compression', () => {
  it('knows model and data formats that do not compress, by the last suffix, any case', () => {
    for (const p of ['w/model.safetensors', 'a.PT', 'x.pth', 'pytorch_model.bin', 'm.ckpt', 'llama.gguf', 'm.onnx', 'd.npz', 'part-0.parquet', 'a.tar.gz', 'v.mp4', 'i.jpg']) {
      expect(incompressible(p), p).toBe(true);
    }
    for (const p of ['train.csv', 'x.npy', 'data-00000.arrow', 'notes.txt', 'model.safetensors.json', '.bin', 'bin', 'dir.pt/readme']) {
      expect(incompressible(p), p).toBe(false);
    }
    // rsync's own default list is kept whole: --skip-compress replaces it, never adds to it.
    expect(SKIP_COMPRESS).toEqual(expect.arrayContaining(['7z', 'gz', 'zip', 'zst', 'jpg', 'mp4', 'squashfs']));
  });

  it('reads the compress list of rsync --version; none from rsync before 3.2', () => {
    expect(compressList('rsync  version 3.2.7  protocol version 31\nCompress list:\n    zstd lz4 zlibx zlib none\nDaemon auth list:\n')).toEqual(['zstd', 'lz4', 'zlibx', 'zlib', 'none']);
    expect(compressList('rsync  version 3.1.3  protocol version 31\nCapabilities:\n')).toEqual([]);
    const probe = rsync.compressChoice?.(pair);
    const out = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', durationMs: 1, timedOut: false, aborted: false });
    const zstd = 'Compress list:\n    zstd lz4 zlib none\n';
    expect(probe?.parse([out(zstd), out(zstd)])).toBe('zstd');
    expect(probe?.parse([out(zstd), out('Compress list:\n    zlibx zlib none\n')])).toBeUndefined();
    expect(probe?.commands[1]?.args.slice(-2)).toEqual(['u@gpu', 'rsync --version']);
  });

  it('asks for zstd only once both ends offered it, and the skip list only then', () => {
    expect(compressArgs(pair, true)).toEqual(['--compress']);
    expect(compressArgs({ ...pair, compressChoice: 'zstd' }, false)).toEqual(['--compress', '--compress-choice=zstd']);
    expect(compressArgs({ ...pair, compressChoice: 'zstd' }, true)[2]).toMatch(/^--skip-compress=.*safetensors/);
    expect(compressArgs({ ...pair, compress: false }, true)).toEqual([]);
  });

  it('moves incompressible files in a call of their own without --compress', () => {
    const calls = rsync.files?.transfer(pair, 'push', filesPlan(['a.csv', 'w.safetensors', 'b.json', 'c.pt'], 'missing'), ctx).send ?? [];
    expect(calls.map((c) => c.input)).toEqual(['a.csv\0b.json\0', 'w.safetensors\0c.pt\0']);
    expect(calls[0]?.args).toContain('--compress');
    expect(calls[1]?.args).not.toContain('--compress');
    const only = rsync.files?.transfer(pair, 'push', filesPlan(['w.safetensors'], 'missing'), ctx).send ?? [];
    expect(only).toHaveLength(1);
    expect(only[0]?.args).not.toContain('--compress');
    expect(rsync.files?.transfer({ ...pair, compress: false }, 'push', filesPlan(['a.csv', 'c.pt'], 'missing'), ctx).send).toHaveLength(1);
  });
});
