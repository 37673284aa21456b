import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import type { RemoteListing, TreeList } from '../types.js';
import { filesArgv } from './argv.js';
import { afterMark, goLine, heldScript, holdable, LIST_AGAIN, listedMark, relayArgv, relayRsh, touchMark } from './held.js';
import { rsync } from './index.js';
import { parseRemoteListing } from './remote.js';

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
    // What find and sha256sum can do, asked once before the go line; the hash step then needs no probe of its own.
    expect(script.split('\n').slice(0, 2)).toEqual([
      "if find -files0-from /dev/null -maxdepth 0 -printf '' >/dev/null 2>&1; then lsf=2; elif find / -maxdepth 0 -printf '' >/dev/null 2>&1; then lsf=1; fi",
      'IFS= read -r lsgo || exit 0',
    ]);
    expect(script).toContain('if [ "$lsf" = 2 ]; then sha256sum -z </dev/null >/dev/null 2>&1 ||');
    expect(script).toContain("exec find -files0-from - -maxdepth 0 -type f -printf '8000 %s %T@ %C@ %i %p\\0' -exec sha256sum -z -- {} +");
    expect(script).toContain(`cd -- '/srv/it'\\''s'`);
    expect(script).toContain(`printf '\\0labsync-held %s%s\\n' "$lst" "$lsh"`);
    // It says it can take the questions of the listing after only with -files0-from, mktemp and GNU head.
    expect(script).toContain(`lsp=; lsh=; if [ "$lsf" = 2 ] && command -v mktemp >/dev/null 2>&1; then case $(head --version 2>/dev/null) in *GNU*) lsh=' touch' ;; esac; fi`);
    // The rsync command runs without the kept questions' fds (held-after.ts).
    expect(script).toMatch(/case \$line in 'labsync-run '\*\) eval "\$\{line#labsync-run \}" 6<&- 7<&- 8<&-; rc=\$\? ;; labsync-list\) rc=0 ;; \*\) exit 0 ;; esac/);
    // After it: the answers where the questions were kept, else the whole listing.
    expect(script.split('\n').at(-1)).toMatch(/^if \[ -n "\$lsp" \]; then .* \) >&2; else .* \) <\/dev\/null >&2; fi$/);
    expect(script).toContain('head -c "$lsn" | (');
    // The same script for every run of the pair: what a run asks comes in its go line.
    expect(heldScript('/srv/raw', [])).toBe(heldScript('/srv/raw', []));
    expect(goLine('abc', 42)).toBe('labsync-go abc 42\n');
    expect(listedMark('abc').toString()).toBe('\0labsync-held abc\n');
    expect(touchMark('abc').toString()).toBe('\0labsync-held abc touch\n');
    expect(afterMark('abc').exec('rsync: note\nlabsync-after abc 23\nlabsync list 1.0\n')?.[1]).toBe('23');
  });

  it('a folder whose name holds a newline is never held (the host reads one line)', () => {
    expect(holdable(remote)).toBe(true);
    expect(holdable({ ...remote, path: '/srv/a\nb' })).toBe(false);
  });

  it('is one way files.list serves the listing: asked with a token, the same listing in a session kept open', () => {
    const fixture = readFileSync(new URL('../../../fixtures/tool-output/findutils-4.9.0/list-remote.out', import.meta.url));
    const list = (opts: { hash?: string[]; hold?: string }, p: ResolvedPair = pair): TreeList => rsync.files?.list(p, 'push', { excludes: ['*.tmp'], ...opts }) as TreeList;
    const held = list({ hash: ['a b'], hold: 'abc' }).held;
    if (!held) throw new Error('expected a held listing');
    const usual = list({ hash: ['a b'] });
    expect(usual.held).toBeUndefined();
    // The same ssh options as the usual listing; the script is the held one, the run's token and paths its input.
    expect(held.command.args.slice(0, -1)).toEqual(usual.tree.commands[0]?.args.slice(0, -1));
    expect(held.command.args.at(-1)).toBe(heldScript('/srv/raw', ['*.tmp']));
    expect(held.command.input).toBe('labsync-go abc 4\na b\0');
    // The same command for any token and paths: bin/labsync.js may have started it (exec/early.ts).
    expect(list({ hold: 'def' }).held?.command.args).toEqual(held.command.args);
    expect(list({ hold: 'def' }).held?.command.input).toBe('labsync-go def 0\n');
    expect(held.mark).toEqual(listedMark('abc'));
    expect(held.again).toBe(LIST_AGAIN);
    expect(held.parse(fixture)).toEqual(parseRemoteListing(fixture, ['*.tmp']));
    // The listing after the transfer: only after this run's marker, and only when rsync exited 0.
    const after = (token: string, rc: number): Buffer => Buffer.concat([Buffer.from(`rsync: note\nlabsync-after ${token} ${rc}\n`), fixture]);
    const paths = (l: RemoteListing | undefined): readonly string[] | undefined => (l && 'paths' in l ? l.paths : undefined);
    expect(paths(held.after(after('abc', 0)))).toEqual(paths(parseRemoteListing(fixture, ['*.tmp'])));
    expect(paths(held.after(after('abc', 0)))).toHaveLength(5);
    expect(held.after(after('abc', 23))).toBeUndefined();
    expect(held.after(after('other', 0))).toBeUndefined();
    // Not held where the host could not read the folder's path as one line.
    expect(list({ hold: 'abc' }, { ...pair, remote: { ...remote, path: '/srv/a\nb' } }).held).toBeUndefined();
  });
});
