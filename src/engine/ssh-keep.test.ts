import { rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { keptFor, whatSshReads } from './ssh-keep.js';
import { sshHome } from './ssh-config.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const dir = tempDir('labsync-keep-');
const config = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const plainConfig = config('plain', 'Host *\n  ServerAliveInterval 30\n  # ControlMaster auto (a comment)\n');
function sshPair(o: { sshOptions?: string[]; sshConfig?: string; controlPersist?: number; tool?: ResolvedPair['tool'] } = {}): ResolvedPair {
  return { name: 'raw', tool: o.tool ?? 'rsync', remote: { type: 'ssh', host: 'gpu', path: '/data', sshOptions: o.sshOptions ?? [], sshConfig: o.sshConfig ?? plainConfig, ...(o.controlPersist === undefined ? {} : { controlPersist: o.controlPersist }) } } as unknown as ResolvedPair;
}
const folder = () => ({ dir: '/home/me/.cache/labsync/ssh' });

describe('which ssh remotes keep their connection', () => {
  it('by default: 60 s, in the socket folder; control_persist sets how long', () => {
    expect(keptFor(sshPair(), {}, folder)).toEqual({ dir: '/home/me/.cache/labsync/ssh', seconds: 60 });
    expect(keptFor(sshPair({ controlPersist: 600 }), {}, folder)).toEqual({ dir: '/home/me/.cache/labsync/ssh', seconds: 600 });
  });

  it('not kept, and why: LABSYNC_SSH_PERSIST=0, control_persist: 0, the user\'s own sharing, the folder', () => {
    expect(keptFor(sshPair(), { LABSYNC_SSH_PERSIST: '0' }, folder)).toEqual({ off: 'LABSYNC_SSH_PERSIST=0' });
    expect(keptFor(sshPair({ controlPersist: 0 }), {}, folder)).toEqual({ off: 'control_persist: 0' });
    expect(keptFor(sshPair({ sshOptions: ['ControlPersist=10m'] }), {}, folder)).toMatchObject({ off: expect.stringMatching(/ssh_options/) });
    const sharing = config('sharing', `Include ${join(dir, 'site.conf')}\n`);
    config('site.conf', 'Host gpu\n  ControlPath ~/.ssh/cm-%C\n');
    expect(keptFor(sshPair({ sshConfig: sharing }), {}, folder)).toMatchObject({ off: expect.stringMatching(/ssh config in effect/) });
    expect(keptFor(sshPair(), {}, () => ({ off: '/x is writable by group or others' }))).toEqual({ off: '/x is writable by group or others', folder: true });
    expect(keptFor(sshPair({ tool: 'rclone' }), {}, folder)).toMatchObject({ off: expect.any(String) });
  });
});

describe('what ssh reads for a kept connection (its socket is named by it too)', () => {
  const remoteOf = (o: { sshConfig: string; knownHosts?: string; identity?: string; sshOptions?: string[] }) => ({ type: 'ssh' as const, host: 'gpu', path: '/data', sshOptions: o.sshOptions ?? [], sshConfig: o.sshConfig, ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}), ...(o.identity ? { identity: o.identity } : {}) });

  it('the same while nothing changes; another digest when the config (or a file it includes), known_hosts or the identity changes', () => {
    const inc = config('inc', 'Port 22\n');
    const cfg = config('cfg', `Include ${inc}\nHost gpu\n  HostName 10.0.0.1\n`);
    const kh = config('kh', 'gpu ssh-ed25519 AAAAone\n');
    const id = config('id', 'key one');
    const extra = config('kh2', 'gpu ssh-ed25519 AAAAtwo\n');
    const r = remoteOf({ sshConfig: cfg, knownHosts: kh, identity: id, sshOptions: [`GlobalKnownHostsFile=${extra}`] });
    const first = whatSshReads(r);
    expect(whatSshReads(r)).toBe(first);
    const seen = new Set([first]);
    const changed = (edit: () => void): void => {
      edit();
      const now = whatSshReads(r);
      expect(seen.has(now)).toBe(false);
      seen.add(now);
    };
    changed(() => writeFileSync(cfg, `Include ${inc}\nHost gpu\n  HostName 10.0.0.2\n`));
    changed(() => writeFileSync(inc, 'Port 2222\n'));
    changed(() => writeFileSync(kh, 'gpu ssh-ed25519 AAAAother\n'));
    changed(() => writeFileSync(extra, 'gpu ssh-ed25519 AAAAthird\n'));
    changed(() => writeFileSync(id, 'key two, another size'));
  });

  it('a known_hosts file ssh cannot read (a path through a file, a folder it may not enter) counts by its error, as ssh skips it: never a failure', () => {
    const notDir = config('plainfile', 'x');
    const cfg = config('cfg-unreadable', `Host other\n  UserKnownHostsFile ${join(notDir, 'known_hosts')}\n`);
    expect(() => whatSshReads(remoteOf({ sshConfig: cfg }))).not.toThrow();
    expect(whatSshReads(remoteOf({ sshConfig: cfg }))).toBe(whatSshReads(remoteOf({ sshConfig: cfg })));
  });

  it('known_hosts rewritten with the same bytes (ssh-keyscan from cron) names the same socket', () => {
    const kh = config('kh-same', 'gpu ssh-ed25519 AAAAsame\n');
    const cfg = config('cfg-same', 'Host gpu\n');
    const before = whatSshReads(remoteOf({ sshConfig: cfg, knownHosts: kh }));
    rmSync(kh);
    config('kh-same', 'gpu ssh-ed25519 AAAAsame\n');
    expect(whatSshReads(remoteOf({ sshConfig: cfg, knownHosts: kh }))).toBe(before);
  });

  it('ssh reads ~/.ssh from the account\'s home, not $HOME', () => {
    const before = process.env.HOME;
    try {
      process.env.HOME = '/nonexistent-home';
      expect(sshHome()).toBe(userInfo().homedir);
    } finally {
      process.env.HOME = before;
    }
  });
});
