// Pure: rclone's exit code + log → ok | retry | fatal. Exit codes: https://rclone.org/docs/#exit-code
// rclone 1.60 exits 1 (not 5) for refused connections and 1 is also its usage error, 2 its catch-all
// (TESTBED.md); rclone ≥ 1.69 swaps 1 and 2, and bisync ≥ 1.66 exits 7 for a critical abort. So the
// log decides and the code (read with the version the command carries) only confirms.
// Fixtures: fixtures/tool-output/rclone-1.60.1/, rclone-1.75.2/ (scripts/record-rclone-fixtures.sh).
import type { Command, Outcome, ToolOutput } from '../types.js';
import { atLeast, BISYNC_MODERN, EXIT_SWAP, resyncsNewer } from './features.js';
import { conflictsOf, logLines, type Conflict } from './parse.js';

const TRANSIENT = /connection refused|connection reset|i\/o timeout|TLS handshake timeout|unexpected EOF|\bEOF\b|503|SlowDown|RequestTimeout|Throttl|no such host|network is unreachable|context deadline exceeded|server misbehaving/i;
// XAdminUserNotFound: versitygw's answer to an unknown access key (AWS says InvalidAccessKeyId).
// "failed to refresh cached credentials": rclone ≥ 1.69 (aws-sdk-go-v2) with no credentials anywhere.
const CREDENTIALS = /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|403 Forbidden|NoCredentialProviders|no valid credential|ExpiredToken|XAdminUserNotFound|InvalidToken|failed to refresh cached credentials/i;

// rclone ≥ 1.69 logs a rejected flag at NOTICE, as plain text even with --use-json-log.
const USAGE = /unknown flag|unknown (sub)?command|unknown shorthand flag|flag needs an argument|invalid argument .* for "--|Command \S+ needs \d+ arguments/i;

/** The exit code rclone gives a usage error: 1 before 1.69, 2 from then on; either when the version is not known. */
export function usageExit(version: string | undefined): readonly number[] {
  if (version === undefined) return [1, 2];
  return atLeast(version, EXIT_SWAP) ? [2] : [1];
}

export function excerpt(stderr: string): string {
  const errors = logLines(stderr).filter((l) => l.level === 'error' || l.level === 'critical' || /^(Fatal error|Failed to)/.test(l.msg)).map((l) => l.msg.trim().split('\n')[0] as string);
  const unique = [...new Set(errors)];
  return unique.slice(-2).join(' | ').slice(0, 500);
}

export function classify(output: ToolOutput, command: Command): Outcome {
  const { exitCode, stderr } = output;
  const verb = command.args[0];
  const said = excerpt(stderr) || `rclone exit ${exitCode}`;
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  if (exitCode === 0 && verb !== 'check') {
    const both = verb === 'bisync' ? conflictsOf(stderr) : [];
    return both.length ? { kind: 'ok', warning: `changed on both sides: ${both.map(describeConflict).join('; ')}` } : { kind: 'ok' };
  }
  // Differences are the answer of `check`, not a failure of it. Files it could compare by size only
  // are the parse's to report (parseCombined: unproven), with the pair's verify result.
  if (verb === 'check' && (exitCode === 0 || (exitCode === 1 && /differences found|files missing|matching files/.test(stderr) && !TRANSIENT.test(stderr)))) {
    return { kind: 'ok' };
  }
  if (verb === 'bisync') {
    // ≥ 1.66 with --resilient calls a first run without listings "retryable": it never is without --resync.
    if (/Must run --resync|cannot find prior Path1 or Path2 listings/i.test(stderr)) {
      return { kind: 'fatal', safety: true, reason: `bisync needs a human: ${said}`, hint: resyncHint(command.pair ?? 'NAME', command.toolVersion) };
    }
    if (/Safety abort|too many deletes|prior lock file found/i.test(stderr)) {
      return { kind: 'fatal', safety: true, reason: `bisync stopped itself: ${said}`, hint: 'nothing was changed; look at both sides before forcing anything' };
    }
    // ≥ 1.66: a critical abort that did not ask for --resync (its listings may be stale): never retried blindly.
    if (exitCode === 7 || /Bisync critical error/i.test(stderr)) {
      return { kind: 'fatal', safety: true, reason: `bisync aborted at a critical error: ${said}`, hint: 'look at both sides; the next run recovers from its own listings where it can' };
    }
  }
  if (usageExit(command.toolVersion).includes(exitCode) && USAGE.test(stderr)) {
    return { kind: 'fatal', reason: `rclone ${command.toolVersion ?? ''} refused the command line: ${said}`.replace('  ', ' '), hint: 'a flag this rclone does not know: run `labsync doctor` to see which rclone labsync found' };
  }
  if (/directory not found/.test(stderr) && ['sync', 'copy', 'size', 'bisync', 'lsjson'].includes(verb ?? '')) {
    return { kind: 'fatal', safety: true, reason: `the source does not exist: ${said}` };
  }
  if (/NoSuchBucket|bucket does not exist/i.test(stderr)) return { kind: 'fatal', reason: `the bucket does not exist: ${said}` };
  if (CREDENTIALS.test(stderr)) return { kind: 'fatal', reason: `credentials refused: ${said}`, hint: 'check the remote\'s credentials (environment, profile or rclone config)' };
  if (/no space left on device|disk quota exceeded/i.test(stderr)) return { kind: 'fatal', reason: `disk full at the destination: ${said}` };
  if (exitCode === 5 || TRANSIENT.test(stderr)) return { kind: 'retry', reason: said };
  return { kind: 'fatal', reason: said };
}

const SIDE = { path1: 'local', path2: 'remote' } as const;

/** "c (kept the remote copy as c, the local one as c.conflict1)" or "c (kept both: c..path1 local, c..path2 remote)". */
export function describeConflict(c: Conflict): string {
  const copies = c.renamed.map((r) => `${r.path} (${SIDE[r.side]})`);
  if (c.winner) return `${c.path}: kept the ${SIDE[c.winner]} copy as ${c.path}${copies.length ? `, the other as ${copies.join(', ')}` : ''}`;
  return `${c.path}: kept both, as ${copies.length ? copies.join(' and ') : `${c.path}..path1 and ${c.path}..path2`}`;
}

/** What to do when bisync has no listings to go on, and what --resync then does on this rclone for this pair. */
export function resyncHint(pair: { readonly name: string; readonly compare?: readonly string[] } | string, version: string | undefined): string {
  const name = typeof pair === 'string' ? pair : pair.name;
  const compare = typeof pair === 'string' ? undefined : pair.compare;
  // Only the name (rclone's own "must run --resync", where the pair's compare is not at hand): both outcomes.
  if (typeof pair === 'string' && atLeast(version, BISYNC_MODERN)) {
    return `check both sides (\`labsync sync ${name} --resync --dry-run\` lists what it would copy), then run the pair once with --resync (\`labsync sync ${name} --resync\`): where modtimes are compared the newer copy of each file that differs wins (--resync-mode newer; with equal times the remote's), else (compare: without modtime, or a side that keeps none) the local copy does; a file on one side only is copied to the other`;
  }
  const what = resyncsNewer(version, compare)
    ? 'of each file that differs the newer copy wins (--resync-mode newer; with equal times the remote\'s)'
    : atLeast(version, BISYNC_MODERN)
      ? 'the local copy of each file that differs replaces the remote\'s (compare: leaves out modtime, so there is no newer one to keep)'
      : `the local copy of each file that differs replaces the remote's (rclone ${version ?? 'before 1.66'} has no other resync mode)`;
  return `check both sides (\`labsync sync ${name} --resync --dry-run\` lists what it would copy), then run the pair once with --resync (\`labsync sync ${name} --resync\`): ${what}, and a file on one side only is copied to the other`;
}
