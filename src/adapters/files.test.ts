// The one shape every file-moving adapter gives (files: list, hash, transfer), checked across the tools.
import { describe, expect, it } from 'vitest';
import { filesPlan } from '../plan/changes.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { adapters } from './index.js';
import { storeLister } from './files.js';

const base = {
  name: 'raw', category: 'data', root: '/lab', local: '/lab/raw', remoteLabel: 'r', mode: 'push', delete: true, maxDelete: { percent: 50 }, backup: false,
  exclude: [], retries: 0, retryDelayMs: 0, timeoutMs: 1000, stallTimeoutMs: 1000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
} as const;
const ssh = { ...base, tool: 'rsync', remote: { type: 'ssh', host: '127.0.0.1', path: '/srv/raw', sshOptions: [] } } as unknown as ResolvedPair;
const nas = { ...base, tool: 'rsync', remote: { type: 'local', path: '/nas/raw' } } as unknown as ResolvedPair;
const s3 = { ...base, tool: 'aws', remote: { type: 's3', bucket: 'b', prefix: 'raw', endpoint: 'http://127.0.0.1:9' } } as unknown as ResolvedPair;
const ctx = { stamp: 's', tty: false, verbose: false, resync: false, full: false };
const plan: PairPlan = {
  send: [{ path: 'new', size: 1, reason: 'missing' }, { path: 'more', size: 1, reason: 'missing' }], replace: [{ path: 'flip', size: 1, reason: 'content' }],
  delete: [{ path: 'gone/a', size: 1, reason: 'extra' }], sourceFiles: 3, destFiles: 2, sourceDigest: '', destDigest: '',
};

describe('files: list → plan → transfer', () => {
  it('every tool that copies files gives it; git and dvc keep their own stores', () => {
    const giving = Object.values(adapters).filter((a) => a.files).map((a) => a.tool).sort();
    expect(giving).toEqual(['aws', 'hf', 'mlflow', 'rclone', 'rsync']);
  });

  it('lists a host as a tree with stat keys and leaves a local folder to labsync; a store as entries', () => {
    const rsync = adapters.rsync.files;
    const tree = rsync?.list(ssh, 'push', { excludes: ['/.rsync-partial/'], hash: ['new'] });
    expect(tree && 'tree' in tree ? tree.tree.commands.map((c) => [c.tool, c.input]) : undefined).toEqual([['ssh', 'new\0']]);
    expect(rsync?.list(nas, 'push')).toBeUndefined();
    expect(storeLister(adapters.rsync, ssh, 'push')).toBeUndefined();
    expect(storeLister(adapters.aws, s3, 'push')).toMatchObject({ local: { md5: true }, modifyWindowMs: 1000, s3: { bucket: 'b' } });
    expect(storeLister(adapters.rclone, { ...s3, tool: 'rclone' } as ResolvedPair, 'bisync')).toBeUndefined();
    expect(adapters.rsync.files?.hash).toBeDefined();
    expect(adapters.aws.files?.hash).toBeUndefined();
    // S3: the stored checksums of objects whose ETag proves nothing, one HEAD each; "Not Found" answers.
    const head = storeLister(adapters.aws, s3, 'push')?.checksums?.(['a', 'b']);
    expect(head?.commands.map((c) => c.args.slice(0, 2))).toEqual([['s3api', 'head-object'], ['s3api', 'head-object']]);
    expect(head?.commands[0]?.answers?.test('An error occurred (404) when calling the HeadObject operation: Not Found')).toBe(true);
    expect(storeLister(adapters.rclone, { ...s3, tool: 'rclone' } as ResolvedPair, 'push')?.checksums).toBeUndefined();
  });

  it('rsync: exactly the plan\'s files (content compared where a replace asks), deletions in their own call after', () => {
    const t = adapters.rsync.files?.transfer(ssh, 'push', plan, ctx, { deleteTargets: ['gone'] });
    expect(t?.send.map((c) => c.input)).toEqual(['new\0more\0flip\0']);
    expect(t?.send[0]?.args).toEqual(expect.arrayContaining(['--files-from=-', '--from0', '--ignore-times']));
    expect(t?.delete.map((c) => c.input)).toEqual(['gone\0']);
    expect(t?.delete[0]?.args).toContain('--delete-missing-args');
    // Default targets: the plan's own deletions; nothing planned, nothing run.
    expect(adapters.rsync.files?.transfer(ssh, 'push', plan, ctx).delete.map((c) => c.input)).toEqual(['gone/a\0']);
    expect(adapters.rsync.files?.transfer(ssh, 'push', filesPlan([], 'missing'), ctx)).toEqual({ send: [], delete: [] });
  });

  it('rsync: a whole tree walked by rsync, a drain\'s files without a partial kept, a quick check where no content is planned', () => {
    const first = filesPlan(['a', 'b'], 'missing');
    const tree = adapters.rsync.files?.transfer(ssh, 'push', first, ctx, { tree: true }).send[0];
    expect(tree?.input).toBeUndefined();
    expect(tree?.args).not.toContain('--files-from=-');
    const drained = adapters.rsync.files?.transfer(ssh, 'push', first, ctx, { whole: true }).send[0];
    expect(drained?.args.some((a) => a.startsWith('--partial-dir'))).toBe(false);
    expect(drained?.args).not.toContain('--ignore-times');
    expect(adapters.rsync.files?.transfer(ssh, 'push', filesPlan(['a'], 'content'), ctx).send[0]?.args).toContain('--ignore-times');
  });

  it('aws: copies then deletions in batches, after; a pull leaves local deletions to labsync', () => {
    const push = adapters.aws.files?.transfer(s3, 'push', plan, ctx);
    expect(push?.send.map((c) => c.args.slice(0, 2))).toEqual([['s3', 'cp']]);
    expect(push?.stage?.paths).toEqual(['new', 'more', 'flip']);
    expect(push?.delete.map((c) => c.args.slice(0, 2))).toEqual([['s3api', 'delete-objects']]);
    const pull = adapters.aws.files?.transfer(s3, 'pull', plan, ctx);
    expect(pull?.delete).toEqual([]);
    expect(pull?.deleteLocal).toEqual(['gone/a']);
  });

  it('rclone: a copy of what is sent, then a sync over the deleted paths alone (a replacement gone meanwhile is never deleted)', () => {
    const t = adapters.rclone.files?.transfer({ ...s3, tool: 'rclone' } as ResolvedPair, 'push', plan, ctx);
    expect(t?.send).toHaveLength(1);
    expect(t?.send[0]?.args[0]).toBe('copy');
    expect(t?.send[0]?.input).toBe('new\nmore\nflip\n');
    expect(t?.delete).toHaveLength(1);
    expect(t?.delete[0]?.args[0]).toBe('sync');
    expect(t?.delete[0]?.input).toBe('gone/a\n');
    // Nothing to send: no copy at all.
    const only = adapters.rclone.files?.transfer({ ...s3, tool: 'rclone' } as ResolvedPair, 'push', { ...plan, send: [], replace: [] }, ctx);
    expect(only?.send).toEqual([]);
    expect(only?.delete).toHaveLength(1);
  });
});
