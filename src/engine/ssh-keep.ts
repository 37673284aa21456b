// Which ssh remotes keep their connection open between runs (an OpenSSH ControlMaster with
// ControlPersist, as Ansible does by default): the first run logs in, and every run within
// `control_persist` (default 60s) of the last session rides that connection, skipping key exchange
// and login. adapters/rsync/ssh.ts adds the options; this decides, once per run, where that applies.
// The user's own sharing wins (Control* in ssh_options or in the ssh config in effect: we add nothing).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PERSIST_S, ownSharing, SOCKET_NAME_CHARS } from '../adapters/rsync/ssh.js';
import { socketFolder, type SocketFolder } from '../state/ssh-sockets.js';
import type { Manifest, ResolvedPair } from '../types.js';
import { withFastCipher } from './ssh-cipher.js';
import { configSays, knownHostsWords, scanConfig, sshConfigFiles, sshHome } from './ssh-config.js';

export type Kept = { readonly dir: string; readonly seconds: number } | { readonly off: string; readonly folder?: true };

/** Whether the ssh config in effect for this remote sets connection sharing itself. */
const configShares = (sshConfig: string | undefined): boolean => ['ControlMaster', 'ControlPath', 'ControlPersist'].some((k) => configSays(sshConfig, k));

/** Whether this pair's connection is kept, for how long and where; or why not. */
export function keptFor(pair: ResolvedPair, env: NodeJS.ProcessEnv = process.env, folder: () => SocketFolder = () => socketFolder(SOCKET_NAME_CHARS, env)): Kept {
  const remote = pair.remote;
  if (remote.type !== 'ssh' || pair.tool !== 'rsync') return { off: 'not an ssh remote' };
  if (env.LABSYNC_SSH_PERSIST === '0') return { off: 'LABSYNC_SSH_PERSIST=0' };
  if (process.platform === 'win32') return { off: 'not on Windows' };
  if (remote.controlPersist === 0) return { off: 'control_persist: 0' };
  if (ownSharing(remote.sshOptions)) return { off: 'its ssh_options share connections their own way (Control*), and those are used' };
  if (configShares(remote.sshConfig)) return { off: 'the ssh config in effect sets ControlMaster, ControlPath or ControlPersist, and that is used' };
  const got = folder();
  if ('off' in got) return { off: got.off, folder: true };
  return { dir: got.dir, seconds: remote.controlPersist ?? CONTROL_PERSIST_S };
}

/**
 * The manifest with each kept remote's socket folder set (its ssh commands then carry the Control
 * options), and the reasons worth a line at -v (the folder cannot be used: no pair keeps its connection).
 */
export function keepConnections(manifest: Manifest, env: NodeJS.ProcessEnv = process.env): { manifest: Manifest; notes: string[] } {
  const notes = new Set<string>();
  let changed = false;
  const pairs = manifest.pairs.map((pair) => {
    if (pair.remote.type !== 'ssh') return pair;
    const kept = keptFor(pair, env);
    if ('off' in kept) {
      if (kept.folder) notes.add(`ssh connections are not kept between runs: ${kept.off}`);
      return pair;
    }
    changed = true;
    // The cipher before the first connection: the kept master carries it for every later session.
    const fast = withFastCipher(pair);
    return { ...fast, remote: { ...(fast.remote as typeof pair.remote), keptIn: kept.dir, keptKey: whatSshReads(fast.remote as SshRemote) } };
  });
  return { manifest: changed ? { ...manifest, pairs } : manifest, notes: [...notes] };
}

type SshRemote = Extract<ResolvedPair['remote'], { type: 'ssh' }>;

/**
 * A digest of what ssh reads to make this remote's connection besides its command line: the ssh config
 * files in effect (and their Includes) and the known_hosts files byte for byte, and the identity by its
 * stat key. It names the kept socket with the command line (adapters/rsync/ssh.ts): ssh's mux client
 * rides any master at its ControlPath without looking at settings again, so a config that now names
 * another host or port, or a host key removed from known_hosts, must find no master made before it.
 * Read at every run (a watch too), never cached.
 */
export function whatSshReads(remote: SshRemote): string {
  const scan = scanConfig(sshConfigFiles(remote.sshConfig));
  const fromOptions = remote.sshOptions.flatMap((o) => /^\s*(?:user|global)knownhostsfile\s*[=\s]\s*(.+)$/i.exec(o)?.[1] ?? []).flatMap(knownHostsWords);
  const dot = join(sshHome(), '.ssh');
  const knownHosts = [
    ...(remote.knownHosts ? [remote.knownHosts] : [join(dot, 'known_hosts'), join(dot, 'known_hosts2')]),
    '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2', ...scan.knownHosts, ...fromOptions,
  ];
  const hash = createHash('sha256').update(scan.digest);
  // known_hosts by its bytes (a tool that rewrites it unchanged, ssh-keyscan from cron, moves no
  // socket), the identity by its stat key. A file ssh cannot read either counts by the error: ssh
  // skips an unreadable known_hosts, and labsync must not fail where ssh would not.
  for (const f of knownHosts) hash.update(`${f}\0${readState(f, true)}\0`);
  if (remote.identity) hash.update(`${remote.identity}\0${readState(remote.identity, false)}\0`);
  return hash.digest('hex');
}

/** Past this size a known_hosts file is judged by its stat key alone. */
const KNOWN_HOSTS_READ_MAX = 4 * 1024 * 1024;

function readState(file: string, bytes: boolean): string {
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) return 'absent';
    if (bytes && st.isFile() && st.size <= KNOWN_HOSTS_READ_MAX) return createHash('sha256').update(readFileSync(file)).digest('hex');
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (error) {
    return `error:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

/** A kept remote's pair with what ssh reads taken again: a watch runs for days on the manifest it read once. */
export function withFreshKey(pair: ResolvedPair): ResolvedPair {
  const remote = pair.remote;
  return remote.type === 'ssh' && remote.keptIn ? { ...pair, remote: { ...remote, keptKey: whatSshReads(remote) } } : pair;
}
