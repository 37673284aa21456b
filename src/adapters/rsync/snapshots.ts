// Pure: the small shell steps around a snapshot run, for a local folder (sh here) or an ssh host (the
// host's sh), so both kinds of remote go through one script. A snapshot is `<base>/<stamp>/`, written
// as `<base>/.labsync-incomplete/` and renamed when verified; `latest` is a relative symlink to the
// newest, so plain tools can restore from it (`rsync -a host:base/latest/ .`), replaced by rename(2),
// which is atomic: a reader sees the old snapshot or the new one, never a half.
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { Command, Probe, SnapshotState } from '../types.js';
import { shQuote, sshCommand, sshTarget } from './ssh.js';

export const INCOMPLETE = '.labsync-incomplete';
export const LATEST = 'latest';
/** A run's stamp (engine/run.ts runStamp): sorts by time, no colons. */
export const SNAPSHOT_NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(\.\d+)?Z$/;

function shell(pair: ResolvedPair, script: string, label: string, mutates: boolean): Command {
  const remote = pair.remote as Extract<Endpoint, { type: 'local' | 'ssh' }>;
  if (remote.type === 'local') return { tool: 'sh', args: ['-c', script], cwd: pair.root, mutates, label, pair: pair.name };
  const [, ...options] = sshCommand(remote, pair.stallTimeoutMs);
  return { tool: 'ssh', args: [...options, '--', sshTarget(remote), script], cwd: pair.root, mutates, label, pair: pair.name };
}

const base = (pair: ResolvedPair): string => (pair.remote as { path: string }).path;
const enter = (pair: ResolvedPair): string => `cd -- ${shQuote(base(pair))}`;

export function stateProbe(pair: ResolvedPair): Probe<SnapshotState> {
  const script = `${enter(pair)} 2>/dev/null || { echo 'labsync nodir'; exit 0; }; echo 'labsync snapshots'; printf 'latest %s\\n' "$(readlink ${LATEST} 2>/dev/null)"; ls -1A`;
  return { commands: [shell(pair, script, `snapshots of ${pair.remoteLabel}`, false)], parse: ([o]) => parseState(o?.stdout ?? '') };
}

export function parseState(stdout: string): SnapshotState {
  const lines = stdout.split('\n');
  if (lines[0] === 'labsync nodir') return { missing: true, names: [], incomplete: false };
  if (lines[0] !== 'labsync snapshots') throw new Error(`unexpected answer: ${JSON.stringify(stdout.slice(0, 80))}`);
  const target = (lines[1] ?? '').replace(/^latest ?/, '');
  const entries = lines.slice(2);
  const names = entries.filter((n) => SNAPSHOT_NAME.test(n)).sort();
  return { missing: false, names, incomplete: entries.includes(INCOMPLETE), ...(names.includes(target) ? { latest: target } : {}) };
}

/** The finished folder gets its name, then `latest` moves to it: a new link renamed over the old one. */
export function publishCommand(pair: ResolvedPair, name: string): Command {
  const tmp = '.labsync-latest.tmp';
  // GNU mv -T (BSD mv -h) renames over the link itself instead of moving into the folder it names;
  // only GNU mv answers --version.
  const swap = `if mv --version >/dev/null 2>&1; then mv -T ${tmp} ${LATEST}; else mv -h ${tmp} ${LATEST}; fi`;
  const script = `${enter(pair)} && mv -- ${INCOMPLETE} ${shQuote(name)} && rm -f ${tmp} && ln -s ${shQuote(name)} ${tmp} && ${swap}`;
  return shell(pair, script, `snapshot ${name} of ${pair.name} as ${LATEST}`, true);
}

export function pruneCommand(pair: ResolvedPair, names: readonly string[]): Command {
  const script = `${enter(pair)} && rm -rf -- ${names.map(shQuote).join(' ')}`;
  return shell(pair, script, `remove ${names.length} old snapshot${names.length === 1 ? '' : 's'} of ${pair.name}`, true);
}

