// Pure: rclone's exit code + log → ok | retry | fatal. Exit codes: https://rclone.org/docs/#exit-code
// rclone 1.60 exits 1 (not 5) for refused connections and 1 is also its catch-all, so read the log
// (TESTBED.md); rclone ≥ 1.69 swaps 1 and 2, which is one more reason never to trust the code alone.
import type { Command, Outcome, ToolOutput } from '../types.js';
import { conflicts, logLines } from './parse.js';

const TRANSIENT = /connection refused|connection reset|i\/o timeout|TLS handshake timeout|unexpected EOF|\bEOF\b|503|SlowDown|RequestTimeout|Throttl|no such host|network is unreachable|context deadline exceeded|server misbehaving/i;
// XAdminUserNotFound: versitygw's answer to an unknown access key (AWS says InvalidAccessKeyId).
const CREDENTIALS = /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|403 Forbidden|NoCredentialProviders|no valid credential|ExpiredToken|XAdminUserNotFound|InvalidToken/i;

export function excerpt(stderr: string): string {
  const errors = logLines(stderr).filter((l) => l.level === 'error' || l.level === 'critical').map((l) => l.msg.trim());
  const unique = [...new Set(errors)];
  return unique.slice(-2).join(' | ').slice(0, 500);
}

export function classify(output: ToolOutput, command: Command): Outcome {
  const { exitCode, stderr } = output;
  const verb = command.args[0];
  const said = excerpt(stderr) || `rclone exit ${exitCode}`;
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  if (exitCode === 0 && verb !== 'check') {
    const both = verb === 'bisync' ? conflicts(stderr) : [];
    return both.length
      ? { kind: 'ok', warning: `changed on both sides, kept both as NAME..path1 and NAME..path2: ${both.join(', ')}` }
      : { kind: 'ok' };
  }
  // Differences are the answer of `check`, not a failure of it. Files it could compare by size only
  // are the parse's to report (parseCombined: unproven), with the pair's verify result.
  if (verb === 'check' && (exitCode === 0 || (exitCode === 1 && /differences found|files missing|matching files/.test(stderr) && !TRANSIENT.test(stderr)))) {
    return { kind: 'ok' };
  }
  if (verb === 'bisync') {
    if (/Must run --resync/i.test(stderr)) {
      return { kind: 'fatal', safety: true, reason: `bisync needs a human: ${said}`, hint: `check both sides, then run the pair once with --resync (\`labsync sync ${command.pair ?? 'NAME'} --resync\`); the newer side of each file wins` };
    }
    if (/Safety abort|too many deletes|prior lock file found/i.test(stderr)) {
      return { kind: 'fatal', safety: true, reason: `bisync stopped itself: ${said}`, hint: 'nothing was changed; look at both sides before forcing anything' };
    }
  }
  if (/directory not found/.test(stderr) && ['sync', 'copy', 'size', 'bisync'].includes(verb ?? '')) {
    return { kind: 'fatal', safety: true, reason: `the source does not exist: ${said}` };
  }
  if (/NoSuchBucket|bucket does not exist/i.test(stderr)) return { kind: 'fatal', reason: `the bucket does not exist: ${said}` };
  if (CREDENTIALS.test(stderr)) return { kind: 'fatal', reason: `credentials refused: ${said}`, hint: 'check the remote\'s credentials (environment, profile or rclone config)' };
  if (/no space left on device|disk quota exceeded/i.test(stderr)) return { kind: 'fatal', reason: `disk full at the destination: ${said}` };
  if (exitCode === 5 || TRANSIENT.test(stderr)) return { kind: 'retry', reason: said };
  if (exitCode === 2) return { kind: 'fatal', reason: `rclone refused the command: ${said}` };
  return { kind: 'fatal', reason: said };
}
