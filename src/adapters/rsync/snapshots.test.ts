import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import { beyondKeep } from '../../engine/snapshots.js';
import { transferArgv } from './argv.js';
import { parseState, publishCommand, pruneCommand, stateProbe } from './snapshots.js';

const pair: ResolvedPair = {
  name: 'ckpt', category: 'models', tool: 'rsync', root: '/lab', local: '/lab/m', remoteLabel: 'nas:snaps',
  remote: { type: 'local', path: "/nas/it's snaps" }, mode: 'push', delete: true, maxDelete: { percent: 50 }, backup: false,
  exclude: [], retries: 0, retryDelayMs: 1000, timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [],
  hooks: {}, notify: {}, lfs: false, source: { file: 'labsync.yaml', line: 1, col: 1 }, snapshots: { keep: 2 },
};
const ctx = { stamp: '2026-11-25T10-00-00.000Z', tty: false, verbose: false, resync: false, full: false };

describe('rsync snapshots', () => {
  it('reads the base folder: snapshots by name, latest only when it names one that is there, the unfinished folder', () => {
    expect(parseState('labsync nodir\n')).toEqual({ missing: true, names: [], incomplete: false });
    const out = 'labsync snapshots\nlatest 2026-11-25T10-00-00.000Z\n2026-11-26T10-00-00.000Z\n.labsync-incomplete\nlatest\n2026-11-25T10-00-00.000Z\nnotes.txt\n';
    expect(parseState(out)).toEqual({ missing: false, latest: '2026-11-25T10-00-00.000Z', names: ['2026-11-25T10-00-00.000Z', '2026-11-26T10-00-00.000Z'], incomplete: true });
    expect(parseState('labsync snapshots\nlatest /elsewhere\n').latest).toBeUndefined();
    expect(parseState('labsync snapshots\nlatest \n')).toEqual({ missing: false, names: [], incomplete: false });
    expect(() => parseState('Welcome to the host!\n')).toThrow(/unexpected answer/);
  });

  it('keeps the newest `keep` and never the one latest names', () => {
    const n = ['2026-01-03T00-00-00.000Z', '2026-01-01T00-00-00.000Z', '2026-01-02T00-00-00.000Z', '2026-01-04T00-00-00.000Z'];
    expect(beyondKeep(n, 2, '2026-01-04T00-00-00.000Z')).toEqual(['2026-01-01T00-00-00.000Z', '2026-01-02T00-00-00.000Z']);
    expect(beyondKeep(n, 1, '2026-01-02T00-00-00.000Z')).toEqual(['2026-01-01T00-00-00.000Z', '2026-01-03T00-00-00.000Z']);
    expect(beyondKeep(n, 7, undefined)).toEqual([]);
  });

  it('quotes the base folder, renames then swaps latest by rename, links to the previous snapshot relatively', () => {
    // A folder written into before: its leftover parts are removed first; a fresh one's tree is not walked.
    expect(publishCommand(pair, '2026-11-25T10-00-00.000Z', false).args[1]).not.toContain('find');
    const publish = publishCommand(pair, '2026-11-25T10-00-00.000Z', true);
    expect(publish.tool).toBe('sh');
    expect(publish.args[1]).toContain(`cd -- '/nas/it'\\''s snaps' && find .labsync-incomplete -depth -type d -name .rsync-partial -exec rm -rf -- {} + && mv -- .labsync-incomplete '2026-11-25T10-00-00.000Z'`);
    expect(publish.args[1]).toMatch(/ln -s '2026-11-25T10-00-00.000Z' \.labsync-latest\.tmp && if mv --version >\/dev\/null 2>&1; then mv -T \.labsync-latest\.tmp latest; else mv -h \.labsync-latest\.tmp latest; fi$/);
    expect(pruneCommand(pair, ['a b']).args[1]).toMatch(/&& rm -rf -- 'a b'$/);
    expect(stateProbe(pair).commands[0]?.mutates).toBe(false);
    const ssh: ResolvedPair = { ...pair, remote: { type: 'ssh', host: 'h', user: 'u', path: 'snaps', sshOptions: [] } };
    expect(publishCommand(ssh, 'x').tool).toBe('ssh');
    expect(publishCommand(ssh, 'x').args).toContain('u@h');
    expect(transferArgv({ ...pair, linkDest: '../2026-11-24T10-00-00.000Z' }, 'push', ctx)).toContain('--link-dest=../2026-11-24T10-00-00.000Z');
  });
});
