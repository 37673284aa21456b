// Pure: a pair and a direction → rsync argv. https://download.samba.org/pub/rsync/rsync.1
import type { Endpoint, ResolvedPair, VerifyMode } from '../../types.js';
import type { PlanContext } from '../types.js';

type RsyncEndpoint = Extract<Endpoint, { type: 'local' | 'ssh' }>;

import { BACKUP_DIR, ownExcludes } from '../own-excludes.js';
import { compressArgs } from './compress.js';
import { rshQuote, sshCommand } from './ssh.js';
import { isPlainPattern, loneBackslashAtEnd } from '../../verify/glob.js';
// Relative, so rsync keeps it inside the destination and excludes it from --delete by itself.
export const PARTIAL_DIR = '.rsync-partial';

function location(endpoint: RsyncEndpoint): string {
  // The trailing slash: copy the folder's contents, not the folder into itself.
  const path = endpoint.path.endsWith('/') ? endpoint.path : `${endpoint.path}/`;
  if (endpoint.type === 'local') return path;
  return `${endpoint.user ? `${endpoint.user}@` : ''}${endpoint.host}:${path}`;
}

export function rsyncRemote(pair: ResolvedPair): RsyncEndpoint {
  if (pair.remote.type !== 'local' && pair.remote.type !== 'ssh') {
    throw new Error(`rsync cannot reach a ${pair.remote.type} remote (pair ${pair.name})`);
  }
  return pair.remote;
}

/** Source and destination for a direction: push sends local → remote. */
export function ends(pair: ResolvedPair, direction: 'push' | 'pull'): [string, string] {
  const local = location({ type: 'local', path: pair.local });
  const remote = location(rsyncRemote(pair));
  return direction === 'push' ? [local, remote] : [remote, local];
}

function transport(pair: ResolvedPair): string[] {
  const remote = rsyncRemote(pair);
  if (remote.type !== 'ssh') return [];
  // --protect-args: names with spaces or quotes reach the far side intact.
  return ['--protect-args', '-e', sshCommand(remote, pair.stallTimeoutMs).map(rshQuote).join(' ')];
}

/**
 * Each exclude; with `contents`, where it can match a folder, the folder's contents too (`P/**`): --force
 * empties a folder in a file's way of whatever no rule names, and an excluded folder's files matched none
 * (review 71: `cache/` excluded, the host's cache/ was emptied for the source's file `cache`). Only the
 * transfers that pass --force get them (and their host): every other command, the verify's among them,
 * keeps the pair's rules exactly as written.
 */
function filters(pair: ResolvedPair, contents = false): string[] {
  return [...pair.exclude, ...ownExcludes(pair)].flatMap((p) => [p, ...(contents ? contentsOf(p) : [])]).map((p) => `--exclude=${p}`);
}

/**
 * The rule for what lies inside whatever `p` matches. rsync compares a pattern without * ? [ as it is,
 * backslashes included, but reads them as escapes once `/**` makes it a wildcard pattern: they are
 * doubled then (review 72: `foo\ bar` had given `foo\ bar/**`, the contents of `foo bar/`). None for a
 * pattern that already covers contents, or one that is only slashes (`/` matches nothing; `/**`, all).
 */
function contentsOf(p: string): string[] {
  const base = p.replace(/\/+$/, '');
  // A wildcard pattern ending in a lone backslash matches nothing; with /** after it, the backslash would
  // escape the slash (`a*\/**`: every folder's contents, review 73). The manifest refuses it; never built.
  if (p.endsWith('**') || base === '' || loneBackslashAtEnd(p)) return [];
  // Only stars (`**/`: every folder): `**/**` would match top-level files too, rsync reading a pattern that
  // starts with ** against "/name" (review 74); any folder's contents is `*/**`.
  if (/^\*+$/.test(base)) return ['*/**'];
  return [`${isPlainPattern(base) ? base.replace(/\\/g, '\\\\') : base}/**`];
}

function shared(pair: ResolvedPair, keepPartial = true, contents = false): string[] {
  // Without --partial-dir rsync removes the temp file (.name.XXXXXX) of a file it is stopped in (SIGTERM),
  // and no longer hides partial folders left by earlier runs: its own rule for them is given instead
  // (perishable, as rsync's is: a folder holding one may still be removed to make way; review 69: a
  // first copy walking the tree had sent them as files).
  const args = ['--archive', '--mkpath', ...(keepPartial ? [`--partial-dir=${PARTIAL_DIR}`] : []), ...filters(pair, contents), ...(keepPartial ? [] : [`--filter=-p ${PARTIAL_DIR}/`])];
  if (pair.bwlimit) args.push(`--bwlimit=${pair.bwlimit}`);
  return args;
}

export function transferArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext): string[] {
  // One call for the whole tree: compressed, incompressible formats too (zstd passes them at their size).
  const args = [...shared(pair), ...compressArgs(pair, true), '--stats', '--info=progress2'];
  // --delete-delay: deletions happen after the transfer, so a failed run (disk full) deletes nothing.
  if (pair.delete) args.push('--delete-delay');
  if (pair.backup) args.push('--backup', `--backup-dir=${BACKUP_DIR}/${ctx.stamp}`);
  // A snapshot: files unchanged since the previous one become hard links to it (relative to the destination).
  if (pair.linkDest) args.push(`--link-dest=${pair.linkDest}`);
  return [...args, ...transport(pair), '--', ...ends(pair, direction)];
}

/** The transfer again, comparing file content (--checksum) instead of size and time. */
export function repairArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext): string[] {
  const args = transferArgv(pair, direction, ctx);
  return [...args.slice(0, args.indexOf('--')), '--checksum', ...args.slice(args.indexOf('--'))];
}

/** The tool's own dry run; -ii lists unchanged files too, which gives the destination's file count. */
export function previewArgv(pair: ResolvedPair, direction: 'push' | 'pull'): string[] {
  const args = [...shared(pair), '--dry-run', '--itemize-changes', '--itemize-changes'];
  if (pair.delete) args.push('--delete-delay');
  return [...args, ...transport(pair), '--', ...ends(pair, direction)];
}

/** Content comparison local → remote: new = missing on the remote, deleting = extra there. */
export function verifyArgv(pair: ResolvedPair, mode: Exclude<VerifyMode, 'none'>): string[] {
  return [
    '--recursive', '--links', '--dry-run', '--itemize-changes', '--itemize-changes', '--delete',
    mode === 'checksum' ? '--checksum' : '--size-only',
    ...filters(pair), `--exclude=${PARTIAL_DIR}/`, // at any depth: rsync keeps partials per folder
    ...transport(pair), '--', ...ends(pair, 'push'),
  ];
}

/**
 * Exactly the planned files, read NUL-separated from standard input (--files-from implies
 * --relative, so "sub/x" lands at "<dest>/sub/x"; -a no longer recurses). `ignoreTimes`: some are
 * planned for their content though size and time match, which rsync's quick check would skip.
 */
export interface FilesHow {
  readonly compress?: boolean;
  readonly keepPartial?: boolean;
  readonly tree?: boolean;
  readonly rerun?: string;
  /** A mirror's planned file may replace a folder at the destination (not a repair's re-send): rsync may make way. */
  readonly makeWay?: boolean;
}

export function filesArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext, ignoreTimes: boolean, how: FilesHow = {}): string[] {
  const { compress = true, keepPartial = true, tree = false, rerun } = how;
  // `tree`: the plan is every file of the source, into a destination holding none (a first push):
  // rsync walks the tree itself instead of reading the list, which it reads one byte per read(2)
  // (50k paths: ~1 s of CPU). Regular files and their folders only, as the plan has them.
  // --ignore-missing-args: a planned file gone since the listing (a trainer rotating checkpoints) is
  // skipped, as `rsync -a` would never have seen it, not the whole transfer failed (exit 23, the
  // source-missing verdict); the listing after the transfer judges what is there. A missing source
  // folder is still an error (change_dir).
  const which = tree ? ['--no-links', '--no-devices', '--no-specials'] : ['--files-from=-', '--from0', '--ignore-missing-args'];
  // --itemize-changes: which files rsync wrote, so the verify can lean on its transfer checksum.
  const force = pair.delete && Boolean(how.makeWay);
  const args = [...shared(pair, keepPartial, force), ...(compress ? compressArgs(pair, false) : []), ...which, '--itemize-changes', '--stats', '--info=progress2'];
  if (ignoreTimes) args.push('--ignore-times');
  if (pair.backup) args.push('--backup', `--backup-dir=${BACKUP_DIR}/${ctx.stamp}`);
  // A rerun (Command.retryArgs) that sends a file again moves the copy just written aside under a name
  // of its own, never over the first run's backup of the old version (with --ignore-times it would).
  if (pair.backup && rerun) args.push(`--suffix=.${rerun}`);
  // A mirror's planned file where the destination has a folder: rsync deletes the folder's files (the
  // plan's deletions, counted by the guard; backed up with backup) to make way, as `rsync -a --delete`
  // does; it keeps excluded files and then refuses, which classify says. Without --force it refused always.
  // Not for a repair's re-send: it must not delete a folder made since (the guard never saw it).
  const receiver = force ? receiverRules(pair, direction, args) : undefined;
  if (receiver) args.push('--force', ...receiver);
  return [...args, ...transport(pair), '--', ...ends(pair, direction)];
}

/**
 * The pair's filter rules for a receiver on the host: rsync gives a remote receiver the client's rules only
 * with --delete, so --force alone emptied a folder of the pair's excluded files there (review 70); between
 * local folders the rules are shared, and a pull's receiver is this side. undefined: too many to give.
 */
function receiverRules(pair: ResolvedPair, direction: 'push' | 'pull', args: readonly string[]): string[] | undefined {
  if (direction !== 'push' || pair.remote.type !== 'ssh') return [];
  const rules = [...filters(pair, true), `--filter=-p ${PARTIAL_DIR}/`];
  // rsync refuses a client whose remote command (ssh's words, the host, every option it passes on, and
  // these) is longer than MAX_SERVER_ARGS: "too many remote options specified" (review 71, 72). Counted
  // high: every word of ssh's command, four for the host and rsync, every option labsync gives the
  // client, four for --force, --protect-args and -e, and a margin. Past it no folder is replaced (no
  // --force): rsync refuses, and says which.
  const used = sshCommand(pair.remote, pair.stallTimeoutMs).length + 4 + args.filter((a) => !a.startsWith('--exclude=') && !a.startsWith('--filter=')).length + 4 + 10;
  return used + rules.length <= SERVER_ARGS_MAX ? rules.map((rule) => `--remote-option=${rule}`) : undefined;
}

/** rsync's MAX_SERVER_ARGS (options.c): the most words a client may give the remote rsync. */
export const SERVER_ARGS_MAX = 140;

/**
 * Deletes the listed destination files, and only those, after every transfer succeeded: each path
 * missing at the source becomes a deletion (--delete-missing-args), a named folder is emptied of what
 * the source lacks there (--delete); --existing keeps rsync from creating any file, and a size window
 * no file fits (--min-size=1 --max-size=1b-1) from writing any: a file that came back at the source
 * meanwhile, or one the host has in a named folder its listing did not show, is left as it is. A file
 * named where the source now has a folder (emptied, or holding only excluded files) is replaced by that
 * folder, as `rsync -a --delete` would (--ignore-existing, the earlier way to write nothing, stopped
 * rsync there with "Not a directory" on every run).
 * With backup, the deleted files go to the dated folder as with --delete.
 */
export function deleteArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext): string[] {
  // --force: a listed folder gone at the source is emptied as --delete would (excluded files kept).
  // --delete: a named folder the source still has, holding none of its listed files (a host's folders
  // are known only from its files), is emptied within; rsync deletes nothing of a folder named that way
  // with --delete-missing-args alone.
  const args = ['--recursive', '--files-from=-', '--from0', '--delete', '--delete-missing-args', '--force', '--existing', '--min-size=1', '--max-size=1b-1', ...filters(pair)];
  if (pair.backup) args.push('--backup', `--backup-dir=${BACKUP_DIR}/${ctx.stamp}`);
  return [...args, ...transport(pair), '--', ...ends(pair, direction)];
}
