// Pure: aws-cli's exit code + stderr → ok | retry | fatal. aws-cli v1: 1 = an S3 operation failed,
// 2 = usage error OR some files skipped, 255 = almost everything else; only stderr tells them apart.
// https://docs.aws.amazon.com/cli/latest/topic/return-codes.html
import type { Command, Outcome, ToolOutput } from '../types.js';

const TRANSIENT = /Could not connect to the endpoint URL|Connection was closed|Read timeout|Connect timeout|SlowDown|Throttl|RequestTimeout|ServiceUnavailable|InternalError|\(500\)|\(503\)|Connection reset|EndpointConnectionError|Max retries exceeded/i;
// XAdminUserNotFound: versitygw's answer to an unknown access key (AWS says InvalidAccessKeyId).
const CREDENTIALS = /Unable to locate credentials|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|ExpiredToken|The config profile .* could not be found|InvalidClientTokenId|XAdminUserNotFound|No user exists with the provided access key|InvalidToken/i;
// The store received other bytes than were hashed (the file changed while it was read, or the link
// corrupted them): nothing was stored, and sending again can succeed.
const BAD_DIGEST = /\(BadDigest\)|\(InvalidDigest\)|\(XAmzContentSHA256Mismatch\)|\(XAmzContentChecksumMismatch\)|\(BadChecksum\)/;

export function excerpt(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-2).join(' | ').slice(0, 500);
}

export function classify(output: ToolOutput, command?: Pick<Command, 'skipFails'>): Outcome {
  const { exitCode, stderr } = output;
  const said = excerpt(stderr) || `aws exit ${exitCode}`;
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  // delete-objects answers 200 and exits 0 with the keys it could not delete listed under Errors.
  if (exitCode === 0 && /"Errors"\s*:\s*\[\s*\{/.test(output.stdout)) return { kind: 'fatal', reason: `some objects were not deleted: ${output.stdout.replace(/\s+/g, ' ').slice(0, 300)}` };
  if (exitCode === 0) return { kind: 'ok' };
  if (/The user-provided path .* does not exist/.test(stderr)) return { kind: 'fatal', safety: true, reason: `the source does not exist: ${said}` };
  if (/NoSuchBucket/.test(stderr)) return { kind: 'fatal', reason: `the bucket does not exist: ${said}` };
  if (CREDENTIALS.test(stderr)) return { kind: 'fatal', reason: `credentials refused: ${said}`, hint: 'check the remote\'s profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment' };
  if (/No space left on device/i.test(stderr)) return { kind: 'fatal', reason: `disk full at the destination: ${said}` };
  if (BAD_DIGEST.test(stderr)) return { kind: 'retry', reason: `the store refused the upload, its checksum did not match the data received (changed while sent?): ${said}` };
  if (/Unknown options:.*--checksum-algorithm/.test(stderr)) {
    return { kind: 'fatal', reason: `this aws-cli cannot send checksums: ${said}`, hint: 'upgrade aws-cli (pip install -U awscli); labsync uploads with --checksum-algorithm SHA256 so the copy can be proven' };
  }
  if (TRANSIENT.test(stderr)) return { kind: 'retry', reason: said };
  if (exitCode === 2 && /warning: Skipping file/i.test(stderr) && !/usage:|error:/i.test(stderr)) {
    // A copy with deletions after it (Command.skipFails) did not do what it was asked: they must not run.
    if (command?.skipFails) return { kind: 'fatal', reason: `aws skipped a file it was to copy (gone or unreadable since the plan?): ${said}; nothing was deleted` };
    return { kind: 'ok', warning: `aws skipped some files: ${said}` };
  }
  if (exitCode === 2) return { kind: 'fatal', reason: `aws refused the command: ${said}` };
  return { kind: 'fatal', reason: said };
}
