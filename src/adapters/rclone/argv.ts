// Pure: a pair and a direction → rclone argv and environment. https://rclone.org/docs/
import { atAnyDepth, classEnd, isPlainPattern, parseClass } from '../../verify/glob.js';
import { join, posix } from 'node:path';
import type { Endpoint, ResolvedPair, VerifyMode } from '../../types.js';
import { stateDir } from '../../state/paths.js';
import type { PlanContext } from '../types.js';
import { stallSeconds } from '../bounds.js';

import { BACKUP_DIR, ownExcludes } from '../own-excludes.js';
import { atLeast, BISYNC_MODERN, resyncsNewer } from './features.js';
/** The env-defined remote labsync uses for a manifest `type: s3` remote: no config file content, no secrets in argv. */
export const S3_REMOTE = 'labsyncs3';

export interface Location { readonly path: string; readonly env: Readonly<Record<string, string>> }

function envKey(remote: string, key: string): string {
  return `RCLONE_CONFIG_${remote.toUpperCase()}_${key.toUpperCase()}`;
}

/** Where rclone should look, and the RCLONE_CONFIG_* variables that define the remote. */
export function location(endpoint: Endpoint): Location {
  switch (endpoint.type) {
    case 'local':
      return { path: endpoint.path, env: {} };
    case 'rclone': {
      const env = Object.fromEntries(Object.entries(endpoint.config ?? {}).map(([k, v]) => [envKey(endpoint.remote, k), v]));
      return { path: `${endpoint.remote}:${endpoint.path}`, env };
    }
    case 's3': {
      const env: Record<string, string> = {
        [envKey(S3_REMOTE, 'type')]: 's3',
        [envKey(S3_REMOTE, 'provider')]: endpoint.endpoint ? 'Other' : 'AWS',
        // Credentials come from the environment, the shared files or the profile — never from argv.
        [envKey(S3_REMOTE, 'env_auth')]: 'true',
        // Never create a bucket: a typo in `bucket:` must fail, not quietly start a new one.
        [envKey(S3_REMOTE, 'no_check_bucket')]: 'true',
      };
      if (endpoint.region) env[envKey(S3_REMOTE, 'region')] = endpoint.region;
      if (endpoint.profile) env[envKey(S3_REMOTE, 'profile')] = endpoint.profile;
      if (endpoint.endpoint) {
        env[envKey(S3_REMOTE, 'endpoint')] = endpoint.endpoint;
        env[envKey(S3_REMOTE, 'force_path_style')] = 'true';
      }
      return { path: `${S3_REMOTE}:${posix.join(endpoint.bucket, endpoint.prefix)}`, env };
    }
    default:
      throw new Error(`rclone cannot reach a ${endpoint.type} remote here`);
  }
}

export function filters(pair: ResolvedPair): string[] {
  // rclone reads "/dir/" as a folder rule too; "/dir/**" says the same for its file filters.
  const own = pair.exclude.flatMap(asRcloneRules);
  return [...own.flatMap((p) => ['--exclude', p]), ...ownExcludes(pair).flatMap((p) => ['--exclude', `${p}**`])];
}

/**
 * One exclude as the rclone rules that leave out what rsync's reading of it does (review 43): a
 * pattern without a trailing "/" names folders too, with everything in them (rclone's own takes files
 * only: `.git` had sent .git/config, both ways in a bisync), and a leading "**" plus slash matches at the top
 * too (rclone's unanchored pattern matches at any depth already).
 */
export function asRcloneRules(pattern: string): string[] {
  // Unanchored, with something after it (`**/` alone is every folder, as it is to rclone).
  const f0 = atAnyDepth(pattern);
  return [f0].flatMap((f) => {
    const p = asRclonePattern(f);
    if (p === undefined) return [];
    return f.endsWith('/') ? [p] : [p, `${p}/**`];
  });
}

/**
 * A pattern as rsync reads it (labsync's dialect, verify/glob.ts), in rclone's, where a class is a Go
 * regexp's: negated "[^/…]" ("[!a]" is "! or a" there, and "[^a]" would match "/"), members written as
 * \\xHH (rclone's bracket counting never sees them), braces escaped ("{a,b}" is a list of choices
 * there, plain text here). undefined: a pattern no name matches (an unclosed or empty class).
 */
export function asRclonePattern(pattern: string): string | undefined {
  const hex = (c: string): string => {
    const n = c.codePointAt(0) as number;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\x{${n.toString(16)}}`;
  };
  if (isPlainPattern(pattern)) return pattern.replace(/[\\{}]/g, '\\$&');
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) out += c + (pattern[++i] as string);
    else if (c === '[') {
      const end = classEnd(pattern, i);
      const parsed = end > 0 ? parseClass(pattern.slice(i + 1, end)) : undefined;
      if (!parsed || (!parsed.negated && !parsed.items.length)) return undefined;
      const members = parsed.items.map((it) => ('posix' in it ? `[:${it.posix}:]` : 'from' in it ? `${hex(it.from)}-${hex(it.to)}` : hex(it.char))).join('');
      out += parsed.negated ? `[^/${members}]` : `[${members}]`;
      i = end;
    } else if (c === '{' || c === '}') out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** --retries 1: labsync's own loop (backoff, events) is the only retry loop. https://rclone.org/docs/#retries-int */
export function base(config: string, pair: ResolvedPair): string[] {
  return ['--config', config, '--retries', '1', '--use-json-log', ...bounds(pair)];
}

/**
 * rclone's own waits, bounded by stall_timeout: a dead server otherwise costs 10 low-level retries per
 * file, a 1m connect timeout and a 5m idle timeout each. https://rclone.org/docs/#timeout-time
 */
export function bounds(pair: ResolvedPair): string[] {
  const s = stallSeconds(pair.stallTimeoutMs);
  return ['--low-level-retries', '3', '--contimeout', `${Math.min(s, 60)}s`, '--timeout', `${s}s`];
}

function tuning(pair: ResolvedPair): string[] {
  return [...(pair.bwlimit ? ['--bwlimit', pair.bwlimit] : []), ...(pair.transfers ? ['--transfers', String(pair.transfers)] : [])];
}

const STATS = ['--stats', '1s', '--stats-log-level', 'NOTICE'];

/** [source, destination] for push/pull; push sends local → remote. */
export function ends(pair: ResolvedPair, direction: 'push' | 'pull'): [string, string] {
  const remote = location(pair.remote).path;
  return direction === 'push' ? [pair.local, remote] : [remote, pair.local];
}

export function bisyncWorkdir(pair: ResolvedPair): string {
  return join(stateDir(pair.root), 'bisync', pair.name);
}

export function copyArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext, config: string, dryRun: boolean): string[] {
  const [src, dst] = ends(pair, direction);
  const backup = pair.backup && !dryRun ? ['--backup-dir', `${dst}/${BACKUP_DIR}/${ctx.stamp}`] : [];
  return [
    pair.delete ? 'sync' : 'copy', ...base(config, pair), ...filters(pair), ...tuning(pair),
    ...(dryRun ? ['--dry-run'] : STATS), ...backup, '--', src, dst,
  ];
}

/** The copy again, comparing hashes (--checksum) instead of size and modification time. */
export function repairArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext, config: string): string[] {
  const args = copyArgv(pair, direction, ctx, config, false);
  return [...args.slice(0, args.indexOf('--')), '--checksum', ...args.slice(args.indexOf('--'))];
}

/** The destination's files, for telling a replacement from a new file (and counting them for the guard). */
export function listArgv(pair: ResolvedPair, path: string, config: string): string[] {
  return ['lsjson', '-R', '--files-only', '--no-modtime', '--no-mimetype', '--config', config, ...bounds(pair), ...filters(pair), '--', path];
}

export function sizeArgv(pair: ResolvedPair, path: string, config: string): string[] {
  return ['size', '--json', '--config', config, ...bounds(pair), ...filters(pair), '--', path];
}

export function bisyncArgv(pair: ResolvedPair, ctx: PlanContext, config: string, dryRun: boolean): string[] {
  const maxDelete = 'percent' in pair.maxDelete ? ['--max-delete', String(Math.floor(pair.maxDelete.percent))] : [];
  const modern = atLeast(ctx.toolVersions?.rclone, BISYNC_MODERN);
  const remote = location(pair.remote).path;
  // Each side's replaced and deleted files, kept on that side (the sync filters leave BACKUP_DIR out);
  // before 1.66 bisync keeps none, and such a pair is refused first (features.ts versionProblems).
  // A remote at its root (`sftp:`) takes the folder without a slash (`sftp:/…` is the host's root).
  const under = (root: string): string => (root.endsWith(':') ? root : `${root.replace(/\/+$/, '')}/`);
  const backup = pair.backup && modern && !dryRun ? ['--backup-dir1', `${under(pair.local)}${BACKUP_DIR}/${ctx.stamp}`, '--backup-dir2', `${under(remote)}${BACKUP_DIR}/${ctx.stamp}`] : [];
  // --resync alone is path1 (local) wins: a remote file edited later would be overwritten. From 1.66
  // the newer copy of each differing file wins where modtimes are compared, as the hint says.
  const resync = ctx.resync ? ['--resync', ...(resyncsNewer(ctx.toolVersions?.rclone, pair.compare) ? ['--resync-mode', 'newer'] : [])] : [];
  return [
    'bisync', ...base(config, pair), ...filters(pair), ...tuning(pair), '--workdir', bisyncWorkdir(pair), ...maxDelete,
    ...modernBisync(pair, ctx.toolVersions?.rclone), ...backup,
    ...resync, ...(dryRun ? ['--dry-run'] : STATS), '--', pair.local, remote,
  ];
}

/**
 * What only bisync ≥ 1.66 understands; nothing for an older or unknown rclone (1.60 rejects each as
 * an unknown flag, and the engine refuses a pair whose conflict/compare needs them before it runs).
 * --resilient --recover: an interrupted run is picked up from its own listings instead of demanding
 * --resync; --max-lock: a lock left by a killed run expires (labsync removes one whose process is gone
 * sooner: engine/tool-locks.ts). The .partial exclude keeps a killed transfer's temporary file
 * (NAME.XXXXXXXX.partial, ≥ 1.63) from being synced to the other side as if it were data.
 * https://rclone.org/bisync/#resilient https://rclone.org/bisync/#conflict-resolve
 */
export function modernBisync(pair: ResolvedPair, version: string | undefined): string[] {
  if (!atLeast(version, BISYNC_MODERN)) return [];
  const conflict = pair.conflict && pair.conflict !== 'keep-both'
    ? ['--conflict-resolve', pair.conflict, '--conflict-loser', 'num']
    : ['--conflict-resolve', 'none'];
  return [
    '--resilient', '--recover', '--max-lock', '5m', ...conflict,
    ...(pair.compare ? ['--compare', pair.compare.join(',')] : []),
    '--exclude', '*.????????.partial',
  ];
}

/**
 * rclone check: both sides' hashes where they share one, else sizes. `full`: every file downloaded and
 * compared byte for byte, with the bytes read in the last stats line (JSON, so they are exact).
 */
export function checkArgv(pair: ResolvedPair, mode: Exclude<VerifyMode, 'none'>, config: string, full = false): string[] {
  const how = full ? ['--download', '--use-json-log', ...STATS] : mode === 'size' ? ['--size-only'] : [];
  return ['check', '--config', config, ...bounds(pair), ...filters(pair), '--combined', '-', ...how, '--', pair.local, location(pair.remote).path];
}

/** Backends whose listing carries each object's MD5 (from its ETag or metadata): hashes cost no reads there. */
const LISTED_MD5 = new Set(['s3', 'google cloud storage', 'gcs', 'azureblob']);

/** `backend`: the remote's backend type where the rclone config file names it (s3-target.ts backendType). */
const typeOf = (e: Endpoint, backend?: string): string => (e.type === 'rclone' ? String(e.config?.type ?? backend ?? '').toLowerCase() : e.type);
const isS3 = (e: Endpoint, backend?: string): boolean => typeOf(e, backend) === 's3';

/**
 * No HEAD of each object after its upload (rclone's own check, one request per file): rclone still
 * compares the MD5 it sent with the ETag the PUT answered, and labsync's verify lists the bucket and
 * compares every ETag with the local file's MD5 after the transfer. https://rclone.org/s3/#s3-no-head
 */
const NO_HEAD = ['--s3-no-head'];

/** Whether a listing of this remote carries MD5s; elsewhere (local, sftp) --hash would read every file. */
export function listsMd5(endpoint: Endpoint, backend?: string): boolean {
  if (endpoint.type === 's3') return true;
  return endpoint.type === 'rclone' && LISTED_MD5.has(typeOf(endpoint, backend));
}

/**
 * One listing of the remote, recursive. --no-mimetype and, where hashes are listed, --use-server-modtime
 * keep rclone from a HEAD per object (S3 keeps both the type and the source's mtime only in each object's
 * headers; test/rclone-list.test.ts counts the requests). The server's modtime is the upload time, so
 * those entries carry no mtime: the plan compares MD5s there.
 */
export function lsjsonArgv(pair: ResolvedPair, config: string, backend?: string): string[] {
  const hashed = listsMd5(pair.remote, backend) ? ['--hash', '--hash-type', 'MD5', '--use-server-modtime'] : [];
  return ['lsjson', '--config', config, '-R', '--files-only', '--no-mimetype', '--fast-list', ...hashed, ...bounds(pair), ...filters(pair), '--', folderPath(pair.remote, backend)];
}

/**
 * The remote named as a folder: on S3 a path without a trailing slash costs a HEAD to see whether it is
 * a file, and rclone ≥ 1.69 takes a refused HEAD (a wrong secret) for "a file", failing with "can't limit
 * to single files when using filters" instead of the store's own 403.
 */
function folderPath(endpoint: Endpoint, backend?: string): string {
  const path = location(endpoint).path;
  return isS3(endpoint, backend) && !path.endsWith('/') && !path.endsWith(':') ? `${path}/` : path;
}

/**
 * Exactly the plan's files, named on standard input: --no-traverse looks each one up instead of listing
 * the destination (one request per file: cheaper only for a few files, see `traverses`), --ignore-times
 * sends a same-size same-mtime replacement the quick check would skip. A copy: it never deletes (a
 * planned replacement whose source went meanwhile stays where it is; deleteArgv deletes). --files-from-raw
 * takes no other filter: the plan was made from filtered listings. `rerun`: see Command.retryArgs.
 */
export function plannedArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext, config: string, traverse = false, rerun?: string, backend?: string): string[] {
  const [src, dst] = ends(pair, direction);
  // A rerun sends every listed file again (--ignore-times), and rclone moves what it replaces over a
  // backup of the same name: the copies the failed run already wrote would take the old versions'
  // place. A rerun's backups get a suffix of their own instead (`model.bin.attempt2`).
  return [
    'copy', ...base(config, pair), ...tuning(pair), ...STATS, '--files-from-raw', '-', ...(traverse ? [] : ['--no-traverse']), '--ignore-times',
    ...(direction === 'push' && isS3(pair.remote, backend) ? NO_HEAD : []),
    ...backupArgs(pair, dst, ctx, rerun), '--', src, dst,
  ];
}

/**
 * The plan's deletions, after every transfer succeeded: a sync over exactly the listed paths deletes
 * those the source lacks (into --backup-dir like the rest); --ignore-existing leaves a path that came
 * back at the source meanwhile as it is, neither sent nor deleted (rsync's --existing --ignore-existing).
 */
export function plannedDeleteArgv(pair: ResolvedPair, direction: 'push' | 'pull', ctx: PlanContext, config: string, traverse = false, backend?: string): string[] {
  const [src, dst] = ends(pair, direction);
  return [
    'sync', ...base(config, pair), ...tuning(pair), ...STATS, '--files-from-raw', '-', ...(traverse ? [] : ['--no-traverse']), '--ignore-existing',
    ...(direction === 'push' && isS3(pair.remote, backend) ? NO_HEAD : []),
    ...backupArgs(pair, dst, ctx), '--', src, dst,
  ];
}

const backupArgs = (pair: ResolvedPair, dst: string, ctx: PlanContext, rerun?: string): string[] =>
  pair.backup ? ['--backup-dir', `${dst}/${BACKUP_DIR}/${ctx.stamp}`, ...(rerun ? ['--suffix', `.${rerun}`] : [])] : [];

/**
 * Whether the transfer should list the destination rather than look up each planned file. Against moto
 * (10k × 2 KiB, rclone 1.60.1, CPU seconds of rclone + moto) a listing page of 1000 objects cost about
 * what 100 single-object lookups did, and a listing of an empty prefix about one lookup: 10k lookups
 * for a first push cost 19 s of moto's CPU more than listing. So: list when the planned files outnumber
 * one lookup plus a tenth of the destination's files.
 */
export function traverses(planned: number, destFiles: number): boolean {
  return planned > 1 + destFiles / 10;
}
