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
  const script = `${enter(pair)} 2>/dev/null || { echo 'labsync nodir'; exit 0; }; echo 'labsync snapshots'; if [ -e ${LATEST} ] && [ ! -L ${LATEST} ]; then echo 'latest-not-a-link'; else printf 'latest %s\\n' "$(readlink ${LATEST} 2>/dev/null)"; fi; ls -1A`;
  return { commands: [shell(pair, script, `snapshots of ${pair.remoteLabel}`, false)], parse: ([o]) => parseState(o?.stdout ?? '') };
}

export function parseState(stdout: string): SnapshotState {
  const lines = stdout.split('\n');
  if (lines[0] === 'labsync nodir') return { missing: true, names: [], incomplete: false };
  if (lines[0] !== 'labsync snapshots') throw new Error(`unexpected answer: ${JSON.stringify(stdout.slice(0, 80))}`);
  const notLink = lines[1] === 'latest-not-a-link';
  const target = notLink ? '' : (lines[1] ?? '').replace(/^latest ?/, '');
  const entries = lines.slice(2);
  const names = entries.filter((n) => SNAPSHOT_NAME.test(n)).sort();
  return { missing: false, names, incomplete: entries.includes(INCOMPLETE), ...(names.includes(target) ? { latest: target } : {}), ...(notLink ? { latestNotLink: true } : {}) };
}

/**
 * An unfinished run's folder holds hard links into the snapshot it was linked against: rsync would
 * change their mode or owner in place (a chmod here since), and with them the older snapshot. Each such
 * file is removed; rsync links or copies it again. Files copied fresh (one link) stay: their bytes are kept.
 */
export function unlinkCommand(pair: ResolvedPair): Command {
  const script = `${enter(pair)} && find ${INCOMPLETE} -type f -links +1 -exec rm -f -- {} +`;
  return shell(pair, script, `unshare ${pair.name}'s unfinished snapshot from the finished ones`, true);
}

/**
 * The finished folder gets its name, then `latest` moves to it: a new link renamed over the old one.
 * `partials`: the folder was written into before (a stopped run's, or an attempt of this one): its
 * leftover parts are looked for (a walk of the whole tree, so only then).
 */
export function publishCommand(pair: ResolvedPair, name: string, partials = true): Command {
  const tmp = '.labsync-latest.tmp';
  // GNU mv -T (BSD mv -h) renames over the link itself instead of moving into the folder it names;
  // only GNU mv answers --version.
  const swap = `if mv --version >/dev/null 2>&1; then mv -T ${tmp} ${LATEST}; else mv -h ${tmp} ${LATEST}; fi`;
  // rsync keeps an interrupted file's part in .rsync-partial/ to resume it, and protects that folder from
  // --delete: one whose file the source no longer has would be published inside the snapshot.
  const clean = `find ${INCOMPLETE} -depth -type d -name .rsync-partial -exec rm -rf -- {} +`;
  const script = `${enter(pair)} && ${partials ? `${clean} && ` : ''}mv -- ${INCOMPLETE} ${shQuote(name)} && rm -f ${tmp} && ln -s ${shQuote(name)} ${tmp} && ${swap}`;
  return shell(pair, script, `snapshot ${name} of ${pair.name} as ${LATEST}`, true);
}

export function pruneCommand(pair: ResolvedPair, names: readonly string[]): Command {
  const script = `${enter(pair)} && rm -rf -- ${names.map(shQuote).join(' ')}`;
  return shell(pair, script, `remove ${names.length} old snapshot${names.length === 1 ? '' : 's'} of ${pair.name}`, true);
}

