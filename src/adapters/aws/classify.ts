// Pure: aws-cli's exit code + stderr → ok | retry | fatal. aws-cli v1: 1 = an S3 operation failed,
// 2 = usage error OR some files skipped, 255 = almost everything else; only stderr tells them apart.
// https://docs.aws.amazon.com/cli/latest/topic/return-codes.html
import type { Outcome, ToolOutput } from '../types.js';

const TRANSIENT = /Could not connect to the endpoint URL|Connection was closed|Read timeout|Connect timeout|SlowDown|Throttl|RequestTimeout|ServiceUnavailable|InternalError|\(500\)|\(503\)|Connection reset|EndpointConnectionError|Max retries exceeded/i;
const CREDENTIALS = /Unable to locate credentials|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|ExpiredToken|The config profile .* could not be found|InvalidClientTokenId/i;

export function excerpt(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-2).join(' | ').slice(0, 500);
}

export function classify(output: ToolOutput): Outcome {
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
  if (TRANSIENT.test(stderr)) return { kind: 'retry', reason: said };
  if (exitCode === 2 && /warning: Skipping file/i.test(stderr) && !/usage:|error:/i.test(stderr)) {
    return { kind: 'ok', warning: `aws skipped some files: ${said}` };
  }
  if (exitCode === 2) return { kind: 'fatal', reason: `aws refused the command: ${said}` };
  return { kind: 'fatal', reason: said };
}
