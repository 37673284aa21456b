import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import { filesArgv, previewArgv, transferArgv, verifyArgv } from './argv.js';
import { rshQuote } from './ssh.js';

const base: ResolvedPair = {
  name: 'raw', category: 'data', tool: 'rsync', root: '/lab', local: '/lab/data/-raw dir', remote: { type: 'local', path: '/nas/raw' },
  remoteLabel: 'nas:raw', mode: 'push', delete: false, maxDelete: { percent: 50 }, backup: false, exclude: ['*.tmp'],
  retries: 3, retryDelayMs: 1000, timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
};
const ctx = { stamp: '2026-11-25T10-00-00Z', tty: false, verbose: false, resync: false, full: false };

describe('rsync argv', () => {
  it('pushes contents (trailing slash) after --, so a leading dash is never an option', () => {
    const args = transferArgv(base, 'push', ctx);
    expect(args.slice(-3)).toEqual(['--', '/lab/data/-raw dir/', '/nas/raw/']);
    expect(args).toContain('--exclude=*.tmp');
    expect(args).toContain('--partial-dir=.rsync-partial');
    expect(args).not.toContain('--delete-delay');
  });

  it('mirrors with --delete-delay and a dated backup folder kept out of deletes', () => {
    const args = transferArgv({ ...base, delete: true, backup: true, bwlimit: '10M' }, 'pull', ctx);
    expect(args).toEqual(expect.arrayContaining(['--delete-delay', '--backup', '--backup-dir=.labsync-backup/2026-11-25T10-00-00Z', '--exclude=/.labsync-backup/', '--bwlimit=10M']));
    expect(args.slice(-2)).toEqual(['/nas/raw/', '/lab/data/-raw dir/']);
  });

  it('reaches ssh hosts in BatchMode with every connection option', () => {
    const pair: ResolvedPair = {
      ...base,
      remote: { type: 'ssh', host: '127.0.0.1', user: 'root', port: 2222, identity: '/k/id key', knownHosts: '/k/known', sshConfig: '/k/cfg', sshOptions: ['Compression=yes'], path: '/srv/raw' },
    };
    const args = previewArgv(pair, 'push');
    const e = args[args.indexOf('-e') + 1];
    expect(e).toBe("ssh -o BatchMode=yes -o ConnectTimeout=10 -F /k/cfg -p 2222 -i '/k/id key' -o IdentitiesOnly=yes -o UserKnownHostsFile=/k/known -o Compression=yes -o ServerAliveInterval=60 -o ServerAliveCountMax=3");
    // A silent peer is dropped after about 1.5 × stall_timeout.
    const short = previewArgv({ ...pair, stallTimeoutMs: 3000 }, 'push');
    expect(short[short.indexOf('-e') + 1]).toMatch(/ -o ServerAliveInterval=2 -o ServerAliveCountMax=3$/);
    expect(args).toContain('--protect-args');
    expect(args).toEqual(expect.arrayContaining(['--dry-run', '--itemize-changes']));
    expect(args.at(-1)).toBe('root@127.0.0.1:/srv/raw/');
  });

  it('verifies content by checksum or size, never by mtime', () => {
    expect(verifyArgv(base, 'checksum')).toEqual(expect.arrayContaining(['--checksum', '--delete', '--dry-run']));
    expect(verifyArgv(base, 'size')).toContain('--size-only');
    // rsync keeps a partial file in the folder it belongs to: its partials are left out at any depth.
    expect(verifyArgv(base, 'checksum')).toContain('--exclude=.rsync-partial/');
    expect(verifyArgv(base, 'size')).not.toContain('--archive');
  });

  it('keeps no partial aside when asked for whole files only (drain): a stopped file leaves nothing', () => {
    expect(filesArgv(base, 'push', ctx, false)).toContain('--partial-dir=.rsync-partial');
    expect(filesArgv(base, 'push', ctx, false, { keepPartial: false }).some((a) => a.startsWith('--partial'))).toBe(false);
  });

  it('sends the whole tree, its regular files and folders, when the plan is every file into an empty destination', () => {
    const tree = filesArgv(base, 'push', ctx, false, { tree: true });
    expect(tree).not.toContain('--files-from=-');
    expect(tree).toEqual(expect.arrayContaining(['--archive', '--no-links', '--no-devices', '--no-specials', '--itemize-changes', '--partial-dir=.rsync-partial']));
    expect(filesArgv(base, 'push', ctx, false)).toEqual(expect.arrayContaining(['--files-from=-', '--from0']));
  });

  it('lets a mirror\'s planned file replace a folder (rsync deletes it to make way); a pair without delete, or a plan with no such file, never deletes', () => {
    expect(filesArgv({ ...base, delete: true }, 'push', ctx, false, { makeWay: true })).toContain('--force');
    expect(filesArgv({ ...base, delete: true }, 'push', ctx, false)).not.toContain('--force');
    expect(filesArgv(base, 'push', ctx, false, { makeWay: true })).not.toContain('--force');
  });

  it('gives a host that receives with --force the pair\'s filter rules itself (rsync sends them only with --delete): its excluded files stop the folder\'s removal', () => {
    const ssh: ResolvedPair = { ...base, delete: true, remote: { type: 'ssh', host: 'gpu', user: 'u', path: '/srv/raw', sshOptions: [] } };
    const pushed = filesArgv(ssh, 'push', ctx, false, { makeWay: true });
    expect(pushed).toEqual(expect.arrayContaining(['--force', '--remote-option=--exclude=*.tmp', '--remote-option=--exclude=/.labsync-backup/', '--remote-option=--filter=-p .rsync-partial/']));
    // A pull's receiver is this side, and local folders share the rules: nothing more.
    expect(filesArgv(ssh, 'pull', ctx, false, { makeWay: true }).some((a) => a.startsWith('--remote-option'))).toBe(false);
    expect(filesArgv({ ...base, delete: true }, 'push', ctx, false, { makeWay: true }).some((a) => a.startsWith('--remote-option'))).toBe(false);
    expect(filesArgv(ssh, 'push', ctx, false).some((a) => a.startsWith('--remote-option'))).toBe(false);
  });

  it('excludes an excluded folder\'s contents too, so --force cannot empty it for a file of its name', () => {
    const args = filesArgv({ ...base, delete: true, exclude: ['cache/', 'logs', '/x/**', 'foo\\ bar', 'a\\*b/', '/'] }, 'push', ctx, false, { makeWay: true });
    expect(args).toEqual(expect.arrayContaining(['--exclude=cache/', '--exclude=cache/**', '--exclude=logs', '--exclude=logs/**', '--exclude=/x/**', '--exclude=/.labsync-backup/**']));
    expect(args).not.toContain('--exclude=/x/**/**');
    // A pattern rsync compares as it is (no * ? [) keeps its backslashes literal once /** makes it a wildcard one (review 72).
    expect(args).toEqual(expect.arrayContaining(['--exclude=foo\\ bar', '--exclude=foo\\\\ bar/**', '--exclude=a\\*b/', '--exclude=a\\*b/**']));
    // Only a transfer that passes --force gets them: every other command keeps the rules as written (the verify's too).
    const plain = ['cache/', 'logs'].map((p) => `--exclude=${p}`);
    for (const other of [filesArgv({ ...base, exclude: ['cache/', 'logs'] }, 'push', ctx, false), verifyArgv({ ...base, exclude: ['cache/', 'logs'] }, 'checksum'), transferArgv({ ...base, delete: true, exclude: ['cache/', 'logs'] }, 'push', ctx)]) {
      expect(other.filter((a) => a.startsWith('--exclude=cache') || a.startsWith('--exclude=logs'))).toEqual(plain);
    }
    // `/` matches nothing: no `/**`, which would match everything.
    expect(args).toContain('--exclude=/');
    expect(args).not.toContain('--exclude=/**');
    // Folders at any depth (`**/`): their contents, never `**/**`, which rsync matches against top-level files too (review 74).
    const stars = filesArgv({ ...base, delete: true, exclude: ['**/', '***/'] }, 'push', ctx, false, { makeWay: true }).filter((a) => a.startsWith('--exclude=*'));
    expect(stars).toEqual(['--exclude=**/', '--exclude=*/**', '--exclude=***/', '--exclude=*/**']);
    // Nor after a wildcard pattern's lone trailing backslash (the manifest refuses it): `a*\/**` meant every a* folder's contents (review 73).
    const lone = filesArgv({ ...base, delete: true, exclude: ['a*\\'] }, 'push', ctx, false, { makeWay: true });
    expect(lone.filter((a) => a.startsWith('--exclude=a*'))).toEqual(['--exclude=a*\\']);
  });

  it('gives a host no more rules than rsync takes from a client: past its count no folder is replaced (no --force), rsync refuses instead', () => {
    const many = Array.from({ length: 100 }, (_, i) => `*.skip${i}`);
    const ssh: ResolvedPair = { ...base, delete: true, exclude: many, remote: { type: 'ssh', host: 'gpu', user: 'u', path: '/srv/raw', sshOptions: [] } };
    const over = filesArgv(ssh, 'push', ctx, false, { makeWay: true });
    expect(over).not.toContain('--force');
    expect(over.some((a) => a.startsWith('--remote-option'))).toBe(false);
    const fewer = filesArgv({ ...ssh, exclude: many.slice(0, 20) }, 'push', ctx, false, { makeWay: true });
    expect(fewer).toContain('--force');
    // Between local folders the rules are shared: --force whatever their number.
    expect(filesArgv({ ...ssh, remote: base.remote }, 'push', ctx, false, { makeWay: true })).toContain('--force');
  });

  it('quotes for rsync\'s own -e splitter', () => {
    expect(rshQuote('plain-word')).toBe('plain-word');
    expect(rshQuote("it's")).toBe(`'it'"'"'s'`);
  });
});
