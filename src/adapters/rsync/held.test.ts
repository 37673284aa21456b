import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import { filesArgv } from './argv.js';
import { afterMark, goLine, heldScript, holdable, listedMark, relayArgv, relayRsh } from './held.js';

const remote = { type: 'ssh' as const, host: 'gpu1', user: 'ml', port: 2222, path: '/srv/raw', sshOptions: [] };
const pair: ResolvedPair = {
  name: 'raw', category: 'data', tool: 'rsync', root: '/lab', local: '/lab/raw', remote,
  remoteLabel: 'gpu:raw', mode: 'push', delete: false, maxDelete: { percent: 50 }, backup: true, exclude: [],
  retries: 3, retryDelayMs: 1000, timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
};
const ctx = { stamp: '2026-11-25T10-00-00Z', tty: false, verbose: false, resync: false, full: false };

describe('one ssh session for listing, transfer and the listing after', () => {
  it('gives rsync the relay as -e and a host the relay ignores (no user: rsync would pass -l)', () => {
    const args = filesArgv(pair, 'push', ctx, false);
    const relayed = relayArgv(args, remote);
    if (!relayed) throw new Error('expected a relayed argv');
    expect(relayed[relayed.indexOf('-e') + 1]).toBe(relayRsh());
    expect(relayed.slice(-2)).toEqual(['/lab/raw/', 'labsync-held:/srv/raw/']);
    // Everything else as it was: the options up to -e, and after its value.
    expect(relayed.filter((a, i) => a !== args[i])).toEqual([relayRsh(), 'labsync-held:/srv/raw/']);
    expect(relayArgv(filesArgv(pair, 'pull', ctx, false), remote)?.slice(-2)).toEqual(['labsync-held:/srv/raw/', '/lab/raw/']);
  });

  it('leaves an argv not of labsync\'s shape to run its own way', () => {
    expect(relayArgv(['-a', '--', '/a/', 'gpu1:/x/'], remote)).toBeUndefined();
    expect(relayArgv(['-e', 'ssh', '--', '/a/', 'other:/x/'], remote)).toBeUndefined();
  });

  it('the host script: go line, listing, marker, one line, the listing after on stderr; paths to hash taken off stdin by length', () => {
    const script = heldScript("/srv/it's", ['*.tmp']);
    expect(script.split('\n').slice(0, 2)).toEqual(["find / -maxdepth 0 -printf '' >/dev/null 2>&1 && lsf=1", 'IFS= read -r lsgo || exit 0']);
    expect(script).toContain(`cd -- '/srv/it'\\''s'`);
    expect(script).toContain(`printf '\\0labsync-held %s\\n' "$lst"`);
    expect(script).toMatch(/case \$line in 'labsync-run '\*\) eval "\$\{line#labsync-run \}"; rc=\$\? ;; labsync-list\) rc=0 ;; \*\) exit 0 ;; esac/);
    expect(script.split('\n').at(-1)).toMatch(/ \) <\/dev\/null >&2$/);
    expect(script).toContain('head -c "$lsn" | (');
    // The same script for every run of the pair: what a run asks comes in its go line.
    expect(heldScript('/srv/raw', [])).toBe(heldScript('/srv/raw', []));
    expect(goLine('abc', 42)).toBe('labsync-go abc 42\n');
    expect(listedMark('abc').toString()).toBe('\0labsync-held abc\n');
    expect(afterMark('abc').exec('rsync: note\nlabsync-after abc 23\nlabsync list 1.0\n')?.[1]).toBe('23');
  });

  it('a folder whose name holds a newline is never held (the host reads one line)', () => {
    expect(holdable(remote)).toBe(true);
    expect(holdable({ ...remote, path: '/srv/a\nb' })).toBe(false);
  });
});
