// Pure: a pair and a direction → aws-cli argv. https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html
import { posix } from 'node:path';
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { PlanContext } from '../types.js';
import { atAnyDepth, classEnd, isPlainPattern } from '../../verify/glob.js';
import { stallSeconds } from '../bounds.js';

type S3 = Extract<Endpoint, { type: 's3' }>;
import { BACKUP_DIR, ownExcludes } from '../own-excludes.js';

export function s3Remote(pair: ResolvedPair): S3 {
  if (pair.remote.type !== 's3') throw new Error(`aws reaches only s3 remotes (pair ${pair.name})`);
  return pair.remote;
}

/** `s3://bucket/prefix/` — the trailing slash keeps `prefix` from matching `prefix-other/`. */
export function s3Url(remote: S3, key = ''): string {
  return `s3://${remote.bucket}/${remote.prefix ? `${remote.prefix}/` : ''}${key}`;
}

/**
 * aws-cli waits 60 s to connect and 60 s per read, then retries: no longer than stall_timeout either.
 * https://docs.aws.amazon.com/cli/v1/userguide/cli-configure-options.html
 */
export function timeouts(pair: ResolvedPair): string[] {
  const s = String(Math.min(60, stallSeconds(pair.stallTimeoutMs)));
  return ['--cli-connect-timeout', s, '--cli-read-timeout', s];
}

export function globals(remote: S3): string[] {
  return [
    ...(remote.endpoint ? ['--endpoint-url', remote.endpoint] : []),
    ...(remote.profile ? ['--profile', remote.profile] : []),
    ...(remote.region ? ['--region', remote.region] : []),
  ];
}

/**
 * aws filters match the path from the sync root and their "*" crosses "/": a pattern that should match
 * at any depth becomes "p" and "*\/p"; "**" is "*". https://docs.aws.amazon.com/cli/latest/reference/s3/#use-of-exclude-and-include-filters
 */
/**
 * An rsync pattern as python's fnmatch (aws-cli's filters) reads it, or undefined where it matches no
 * name: a plain pattern (none of `* ? [`) as it is, backslashes too, as rsync compares it; otherwise an
 * escape `\x` is the character (a one-member class for `* ? [`: fnmatch reads a backslash as itself,
 * review 46/47), `**` is `*`, and a class is copied with `^` negation as fnmatch's `!`.
 */
export function asFnmatch(pattern: string): string | undefined {
  if (isPlainPattern(pattern)) return pattern;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      const x = pattern[++i] as string;
      out += '*?['.includes(x) ? `[${x}]` : x;
    } else if (c === '*') {
      out += '*';
      while (pattern[i + 1] === '*') i++;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end <= 0) return undefined;
      out += `[${pattern.slice(i + 1, end).replace(/^\^/, '!')}]`;
      i = end;
    } else out += c;
  }
  return out;
}

export function filters(excludes: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of excludes) {
    // An unanchored leading "**/" with something after it matches at the top too, as rsync reads it.
    const anchored = raw.startsWith('/');
    const bare = atAnyDepth(raw).replace(/^\/+/, '');
    const folderOnly = bare.endsWith('/');
    const p = asFnmatch(bare.replace(/\/+$/, ''));
    // A pattern rsync matches no name with (an unclosed class): nothing to exclude.
    if (p === undefined) continue;
    // A name without a trailing "/" is a file's or a folder's with all in it (aws matches whole paths).
    const forms = folderOnly ? [`${p}/*`] : [p, `${p}/*`];
    for (const f of forms) {
      out.push('--exclude', f);
      if (!anchored) out.push('--exclude', `*/${f}`);
    }
  }
  return out;
}

export function ends(pair: ResolvedPair, direction: 'push' | 'pull'): [string, string] {
  const remote = s3Url(s3Remote(pair));
  return direction === 'push' ? [pair.local, remote] : [remote, pair.local];
}

/**
 * Every upload carries a SHA-256 the store keeps beside the object: where its ETag is not an MD5
 * (SSE-KMS, SSE-C, CRC-based ETags) that checksum is what proves the copy (verify/s3-judge.ts).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
export const UPLOAD_CHECKSUM = ['--checksum-algorithm', 'SHA256'];

export function syncArgv(pair: ResolvedPair, direction: 'push' | 'pull', _ctx: PlanContext, dryRun: boolean): string[] {
  const [src, dst] = ends(pair, direction);
  return [
    's3', 'sync', ...globals(s3Remote(pair)), ...timeouts(pair), ...filters([...pair.exclude, ...ownExcludes(pair)]),
    ...(pair.delete ? ['--delete'] : []),
    ...(direction === 'push' && !dryRun ? UPLOAD_CHECKSUM : []),
    // Progress even off a terminal: it is how the stall watchdog sees bytes move (~16 KB of output per 50 MB).
    ...(dryRun ? ['--dryrun', '--no-progress'] : []),
    '--', src, dst,
  ];
}

/** One file sent again whatever sync's size-and-time check says: a same-size corruption at the destination. */
export function copyOneArgv(pair: ResolvedPair, direction: 'push' | 'pull', key: string): string[] {
  const remote = s3Remote(pair);
  const local = posix.join(pair.local, key);
  const [src, dst] = direction === 'push' ? [local, s3Url(remote, key)] : [s3Url(remote, key), local];
  return ['s3', 'cp', ...globals(remote), ...timeouts(pair), ...(direction === 'push' ? UPLOAD_CHECKSUM : []), '--no-progress', '--only-show-errors', '--', src, dst];
}

/** One object's stored checksum (read only where its ETag cannot prove its content). `--key=`: a key may start with "-". */
export function headArgv(pair: ResolvedPair, key: string): string[] {
  const remote = s3Remote(pair);
  return ['s3api', 'head-object', ...globals(remote), ...timeouts(pair), '--bucket', remote.bucket, `--key=${remote.prefix ? `${remote.prefix}/` : ''}${key}`, '--checksum-mode', 'ENABLED', '--output', 'json'];
}

/** Paginated by aws-cli itself; the backup prefix is not part of the listing. */
export function listArgv(pair: ResolvedPair): string[] {
  const remote = s3Remote(pair);
  return ['s3api', 'list-objects-v2', ...globals(remote), ...timeouts(pair), '--bucket', remote.bucket, '--prefix', remote.prefix ? `${remote.prefix}/` : '', '--output', 'json'];
}

/** A server-side copy of one object into the dated backup prefix, before a mirror replaces or deletes it. */
export function backupArgv(pair: ResolvedPair, key: string, ctx: PlanContext): string[] {
  const remote = s3Remote(pair);
  return ['s3', 'cp', ...globals(remote), ...timeouts(pair), '--no-progress', '--only-show-errors', '--', s3Url(remote, key), s3Url(remote, posix.join(BACKUP_DIR, ctx.stamp, key))];
}
