import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../types.js';
import { keepsConnection, sshCommand } from './ssh.js';

type Ssh = Extract<Endpoint, { type: 'ssh' }>;
const remote = (over: Partial<Ssh> = {}): Ssh => ({ type: 'ssh', host: 'gpu', user: 'me', path: '/data', sshOptions: [], keptIn: '/home/me/.cache/labsync/ssh', ...over });
const option = (words: string[], name: string): string | undefined => words.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1);

describe('the kept connection in ssh\'s argv', () => {
  it('a remote with a socket folder: ControlMaster=auto, a socket named by a digest of the whole command, ControlPersist from control_persist (60 s by default)', () => {
    const words = sshCommand(remote(), 120_000);
    expect(option(words, 'ControlMaster')).toBe('auto');
    expect(option(words, 'ControlPath')).toMatch(/^\/home\/me\/\.cache\/labsync\/ssh\/[0-9a-f]{20}$/);
    expect(option(words, 'ControlPersist')).toBe('60');
    expect(option(sshCommand(remote({ controlPersist: 300 }), 120_000), 'ControlPersist')).toBe('300');
    // The Control options come last: after the user's options and the keepalives the master carries.
    expect(words.slice(-6)).toEqual(['-o', 'ControlMaster=auto', '-o', `ControlPath=${option(words, 'ControlPath')}`, '-o', 'ControlPersist=60']);
  });

  it('two remotes that log in differently never share a socket; the same one always names the same', () => {
    const path = (r: Ssh, stall = 120_000): string | undefined => option(sshCommand(r, stall), 'ControlPath');
    const base = path(remote());
    expect(path(remote())).toBe(base);
    for (const other of [remote({ port: 2222 }), remote({ user: 'you' }), remote({ host: 'gpu2' }), remote({ identity: '/k' }), remote({ sshConfig: '/c' }), remote({ knownHosts: '/kh' }), remote({ sshOptions: ['Compression=yes'] })]) {
      expect(path(other)).not.toBe(base);
    }
    expect(path(remote(), 10_000)).not.toBe(base); // other keepalives: another master
    // Only the seconds it waits differ: the same connection.
    expect(path(remote({ controlPersist: 300 }))).toBe(base);
  });

  it('nothing added: no socket folder, control_persist: 0, or the user\'s own Control* options', () => {
    for (const r of [remote({ keptIn: undefined }), remote({ controlPersist: 0 }), remote({ sshOptions: ['ControlPath=/mine/%C'] }), remote({ sshOptions: ['controlmaster=no'] })]) {
      const { keptIn, ...rest } = r;
      const plain = keptIn === undefined ? r : (rest as Ssh);
      expect(keepsConnection(r)).toBe(false);
      expect(sshCommand(r, 120_000).some((w) => /^Control(Master|Path|Persist)=/.test(w) && !r.sshOptions.includes(w))).toBe(false);
      expect(sshCommand(r, 120_000)).toEqual(sshCommand(plain, 120_000));
    }
  });
});
