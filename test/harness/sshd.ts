// A throw-away sshd on 127.0.0.1: temp host key, temp authorized key, free port. Nothing outside its folder.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { descendsFrom, exited, killExact } from './processes.js';

export interface SshHost {
  readonly pid: number;
  readonly port: number;
  readonly user: string;
  readonly identity: string;
  readonly knownHosts: string;
  readonly sshConfig: string;
  readonly dir: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const SSHD = '/usr/sbin/sshd';

export function sshdAvailable(): boolean {
  return existsSync(SSHD);
}

/** `extra`: more sshd_config lines (a test's own host: `SetEnv PATH=…` for a host lacking some tools). */
export async function startSshd(dir: string, extra: readonly string[] = []): Promise<SshHost> {
  mkdirSync(dir, { recursive: true });
  const key = (name: string, comment: string): void => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(dir, name)]);
  };
  key('host_ed25519', 'labsync-test-host');
  key('id_ed25519', 'labsync-test-client');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')), { mode: 0o600 });
  writeFileSync(join(dir, 'ssh_config'), '# empty: tests never read ~/.ssh/config\n');
  const user = userInfo().username;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', 'AddressFamily inet', `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
      'X11Forwarding no', 'AllowTcpForwarding no', 'MaxStartups 100', 'Subsystem sftp internal-sftp', 'LogLevel VERBOSE', ...extra, '',
    ].join('\n'));
    const pid = await launch(dir, port);
    if (pid !== undefined) {
      const hostKey = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
      return { pid, port, user, identity: join(dir, 'id_ed25519'), knownHosts: join(dir, 'known_hosts'), sshConfig: join(dir, 'ssh_config'), dir };
    }
  }
  throw new Error(`sshd did not start; see ${join(dir, 'sshd.log')}`);
}

/** Starts sshd on the config in `dir`; its PID once it listens on `port`, else undefined (nothing left running). */
async function launch(dir: string, port: number): Promise<number | undefined> {
  const config = join(dir, 'sshd_config');
  const log = join(dir, 'sshd.log');
  const listening = `Server listening on 127.0.0.1 port ${port}`;
  const before = existsSync(log) ? readFileSync(log, 'utf8').split(listening).length : 1;
  const out = openSync(log, 'a');
  // sshd needs /run/sshd: a private mount namespace with its own /run gives it one without touching the host.
  const privateRun = process.getuid?.() === 0 && !existsSync('/run/sshd');
  const child = privateRun
    ? spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m,mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$0" -D -e -f "$1"', SSHD, config], { stdio: ['ignore', out, out], detached: true })
    : spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', out, out], detached: true });
  child.unref();
  const pid = child.pid as number;
  for (let i = 0; i < 100; i++) {
    if (readFileSync(log, 'utf8').split(listening).length > before) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  killExact(pid, config);
  return undefined;
}

/**
 * Stops the listener and every session it started (the per-connection sshd and what runs under it):
 * their connections close, so an ssh ControlMaster kept by a client (labsync's kept connection)
 * reads end of file and exits too, and nothing of a test outlives its host.
 */
export function stopSshd(host: SshHost): Promise<void> {
  const config = join(host.dir, 'sshd_config');
  // Found before the listener goes: its orphans would no longer descend from it.
  const sessions = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== host.pid && descendsFrom(Number(e), host.pid)).map(Number);
  killExact(host.pid, config);
  for (const pid of sessions) killExact(pid, 'sshd');
  // Signalled now; the promise (for whoever removes its folder next) says when the listener is gone.
  return exited(host.pid, config);
}

/** The same host again, on its port, after stopSshd (a host that comes back). */
export async function restartSshd(host: SshHost): Promise<SshHost> {
  const pid = await launch(host.dir, host.port);
  if (pid === undefined) throw new Error(`sshd did not start again on port ${host.port}; see ${join(host.dir, 'sshd.log')}`);
  return { ...host, pid };
}

/** A manifest's `remotes:` entry for this host, its files under `path`. */
export const sshRemote = (host: SshHost, path: string): string =>
  `{ type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${host.port}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: "${path}" }`;
