// Pure: how labsync reaches an rsync pair's host: ssh's argv (for rsync's -e and labsync's own calls),
// the target it names, and a script run there through one ssh call.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { Command } from '../types.js';
import { sshKeepAlive } from '../bounds.js';

type SshEndpoint = Extract<Endpoint, { type: 'ssh' }>;

/** rsync splits -e itself, honouring quotes: quote anything that is not plainly safe. */
export function rshQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

export function sshCommand(remote: SshEndpoint, stallTimeoutMs: number): string[] {
  // BatchMode: never wait for a password or a host-key prompt nobody will answer (cron, CI).
  const words = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];
  if (remote.sshConfig) words.push('-F', remote.sshConfig);
  if (remote.port) words.push('-p', String(remote.port));
  if (remote.identity) words.push('-i', remote.identity, '-o', 'IdentitiesOnly=yes');
  if (remote.knownHosts) words.push('-o', `UserKnownHostsFile=${remote.knownHosts}`);
  for (const option of remote.sshOptions) words.push('-o', option);
  // After the user's options: ssh keeps the first value given, so theirs win.
  words.push(...sshKeepAlive(stallTimeoutMs));
  const socket = keptSocket(remote, words);
  // The first run's connection stays open `controlPersist` seconds after its last session, and the
  // next run within them rides it: no key exchange, no login (engine/ssh-keep.ts decides where).
  if (socket) words.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${socket}`, '-o', `ControlPersist=${remote.controlPersist ?? CONTROL_PERSIST_S}`);
  return words;
}

/** Seconds a kept connection waits for the next run when the manifest does not say (Ansible's default too). */
export const CONTROL_PERSIST_S = 60;

/** Whether ssh options already decide connection sharing (the user's own: theirs win, labsync adds nothing). */
export const ownSharing = (options: readonly string[]): boolean => options.some((o) => /^\s*control(master|path|persist)\b/i.test(o));

/** Whether this remote's ssh commands ride a connection kept between runs. */
export const keepsConnection = (remote: SshEndpoint): boolean => Boolean(remote.keptIn) && remote.controlPersist !== 0 && !ownSharing(remote.sshOptions);

/** Characters of the socket's name: a digest of everything that makes the connection. */
export const SOCKET_NAME_CHARS = 20;

/**
 * The kept connection's socket: named by a digest of the whole ssh command, its target and what ssh
 * reads besides (keptKey: the config files' and known_hosts' bytes, the identity), so
 * two pairs that log in differently (identity, config, options, port) never share one master, and an
 * edited config or known_hosts never rides a master made before the edit.
 */
function keptSocket(remote: SshEndpoint, words: readonly string[]): string | undefined {
  if (!keepsConnection(remote)) return undefined;
  const name = createHash('sha256').update(JSON.stringify([words, sshTarget(remote), remote.keptKey ?? ''])).digest('hex').slice(0, SOCKET_NAME_CHARS);
  return join(remote.keptIn as string, name);
}

/** A word for the host's POSIX shell: always single-quoted. */
export const shQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export const sshTarget = (remote: SshEndpoint): string => `${remote.user ? `${remote.user}@` : ''}${remote.host}`;

/**
 * A POSIX sh script run on the pair's host through one ssh call, nothing installed there. The pair's
 * ssh options carry the run's shared connection where there is one (engine/ssh-mux.ts), so a caller
 * handed the pair a run is using rides it. `binary`: stdout is a listing, kept as bytes.
 */
export function sshScript(pair: ResolvedPair, remote: SshEndpoint, script: string, label: string, input?: string, binary = false): Command {
  const [, ...options] = sshCommand(remote, pair.stallTimeoutMs);
  // ssh joins its arguments into one string for the login shell there: the script is that string.
  return { tool: 'ssh', args: [...options, '--', sshTarget(remote), script], cwd: pair.root, mutates: false, label, pair: pair.name, ...(binary ? { binaryStdout: true } : {}), ...(input === undefined ? {} : { input }) };
}
