// The cipher an rsync pair's ssh connections agree on (engine/ssh-cipher.ts), read from ssh's own debug
// log: an `ssh` first on PATH runs the real one with -v into a file (-E), so rsync's stream is untouched.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuHasAes } from '../src/engine/ssh-cipher.js';
import { json, Lab } from './harness/lab.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

type Doc = { pairs: { status: string; files: number; verify: { status: string; proof?: string } | null }[] };

const aes = process.platform === 'linux' ? cpuHasAes(readFileSync('/proc/cpuinfo', 'utf8')) : cpuHasAes(undefined);

/** Runs the real ssh with its debug lines appended to `log`. */
function loggingSsh(): { bin: string; log: string } {
  const dir = tempDir('labsync-cipher-');
  const log = join(dir, 'ssh.log');
  const real = execFileSync('sh', ['-c', 'command -v ssh']).toString().trim();
  writeFileSync(join(dir, 'ssh'), `#!/bin/sh\nexec ${real} -v -E ${log} "$@"\n`);
  chmodSync(join(dir, 'ssh'), 0o755);
  writeFileSync(log, '');
  return { bin: dir, log };
}

const ciphers = (log: string): string[] => [...readFileSync(log, 'utf8').matchAll(/kex: client->server cipher: (\S+)/g)].map((m) => m[1] as string);

function manifest(host: SshHost, lab: Lab, options: string[] = []): string {
  const extra = options.length ? `, ssh_options: [${options.map((o) => JSON.stringify(o)).join(', ')}]` : '';
  return `version: 1
defaults:
  retries: 0
remotes:
  gpu: { type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${host.port}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: "${lab.outside('gpu')}"${extra} }
data:
  - name: raw
    local: raw
    remote: "gpu:raw"
`;
}

describe.skipIf(!sshdAvailable() || !aes)('the ssh cipher of an rsync pair (a CPU with AES instructions)', () => {
  let host: SshHost;
  let noGcm: SshHost;
  beforeAll(async () => {
    host = await startSshd(tempDir('labsync-cipher-sshd-'));
    // A host whose policy refuses AES-GCM: the list labsync gives still holds a cipher it takes.
    noGcm = await startSshd(tempDir('labsync-cipher-sshd-'), ['Ciphers chacha20-poly1305@openssh.com,aes256-ctr']);
  });
  afterAll(async () => {
    if (host) await stopSshd(host);
    if (noGcm) await stopSshd(noGcm);
  });

  async function push(on: SshHost, options: string[] = [], env: Record<string, string> = {}): Promise<{ doc: Doc; used: string[] }> {
    const lab = new Lab();
    lab.manifest(manifest(on, lab, options));
    for (let i = 0; i < 40; i++) lab.write(lab.path('raw', `d${i % 3}`, `f${i}`), `file ${i}\n`.repeat(50 + i));
    const ssh = loggingSsh();
    const r = await lab.cli(['data', 'push', '--json'], { env: { PATH: `${ssh.bin}:${lab.env.PATH}`, ...env } });
    expect(r.exitCode, r.stderr).toBe(0);
    return { doc: json<Doc>(r), used: ciphers(ssh.log) };
  }
  it('every connection of a push agrees on AES-GCM, and the copy is proved as before', async () => {
    const { doc, used } = await push(host);
    expect(doc.pairs[0]).toMatchObject({ status: 'ok', files: 40, verify: { status: 'in_sync' } });
    expect(used.length).toBeGreaterThan(0);
    expect(new Set(used)).toEqual(new Set(['aes128-gcm@openssh.com']));
  });

  it('LABSYNC_SSH_CIPHER=0 leaves it to ssh (OpenSSH puts chacha20-poly1305 first)', async () => {
    const { used } = await push(host, [], { LABSYNC_SSH_CIPHER: '0' });
    expect(used.length).toBeGreaterThan(0);
    expect(used).not.toContain('aes128-gcm@openssh.com');
  });

  it('the user\'s own Ciphers option wins', async () => {
    const { used } = await push(host, ['Ciphers=aes256-ctr']);
    expect(new Set(used)).toEqual(new Set(['aes256-ctr']));
  });

  it('a host that refuses AES-GCM agrees on the next cipher of the list, and the push goes through', async () => {
    const { doc, used } = await push(noGcm);
    expect(doc.pairs[0]).toMatchObject({ status: 'ok', files: 40, verify: { status: 'in_sync' } });
    expect(new Set(used)).toEqual(new Set(['chacha20-poly1305@openssh.com']));
  });
});
