// A small push to S3 by labsync's own client (exec/s3-put.ts) instead of an aws-cli start (python,
// ~0.4–0.5 s of CPU for a single `aws s3 cp`): only where the objects come out as aws-cli would make
// them — each under aws-cli's multipart threshold (so the ETag is the MD5 aws would leave), the same
// Content-Type (Python's mimetypes, exec/mime-type.ts) and SHA-256 checksum, no other option on the
// aws argv — and where labsync reaches the store as aws-cli would (exec/s3-direct.ts). Anything else
// (a backup to keep, a big file, many files, a store that refuses a header) goes to aws-cli as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyOneArgv } from '../adapters/aws/argv.js';
import type { Lister } from '../adapters/types.js';
import { bounded } from '../exec/bounded.js';
import { guessContentType } from '../exec/mime-type.js';
import { backoffDelay, sleep } from '../exec/retry.js';
import type { S3Target } from '../exec/s3-direct.js';
import { deleteObject, putObject, type S3Written } from '../exec/s3-put.js';
import { objectUrl } from '../exec/s3-meta.js';
import { firstOdd } from '../plan/odd-path.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { AWS_PART_SIZE } from '../verify/etag.js';
import type { Attempted, AttemptContext } from './attempt.js';
import { targetOf } from './listings.js';

/** aws-cli uploads a file of this size or more in parts (multipart_threshold, 8 MiB by default). */
export const AWS_MULTIPART_THRESHOLD = AWS_PART_SIZE;
/**
 * No cut-over by count: labsync's PUTs cost less than aws-cli's at every count measured (moto, 50 KiB
 * objects: 0.45–1.2 s less CPU at 1 to 1000 objects; a 10k first push 35–40 s against 44–48 s through
 * the staged `aws s3 cp --recursive`, `aws s3 sync` itself 37–40 s: docs/speed-notes.md), each object
 * costing aws-cli one python request as it costs labsync one. What still goes to aws-cli is what it
 * does differently: parts, backups, options.
 */
/** Requests in flight at once: aws-cli's max_concurrent_requests, so a real link's latency is hidden alike. */
const PARALLEL = 10;

/** Options on the aws argv that leave the object as labsync's PUT leaves it; any other (--sse, --acl, --storage-class, …) hands the push to aws-cli. */
const SAME_OBJECT = new Set(['--endpoint-url', '--region', '--cli-connect-timeout', '--cli-read-timeout', '--checksum-algorithm', '--no-progress', '--only-show-errors']);
const WITH_VALUE = new Set(['--endpoint-url', '--region', '--cli-connect-timeout', '--cli-read-timeout', '--checksum-algorithm', '--profile']);

/** The first option of an `aws s3 cp` argv that labsync's PUT would not reproduce, if any. */
export function foreignOption(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    const name = a.split('=')[0] as string;
    if (!SAME_OBJECT.has(name)) return name;
    if (name === '--checksum-algorithm' && (a.includes('=') ? a.split('=')[1] : argv[i + 1]) !== 'SHA256') return a;
    if (WITH_VALUE.has(name) && !a.includes('=')) i += 1;
  }
  return undefined;
}

export interface DirectPush { readonly target: S3Target; readonly send: readonly string[]; readonly gone: readonly string[]; readonly bytes: number }

/** Whether labsync PUTs this push itself, or why aws-cli does. */
export function directPush(pair: ResolvedPair, lister: Lister, plan: PairPlan, env: NodeJS.ProcessEnv = process.env): DirectPush | { reason: string } {
  if (env.LABSYNC_S3_PUT === '0') return { reason: 'LABSYNC_S3_PUT=0' };
  if (!lister.s3) return { reason: 'not an aws pair' };
  // Windows: Python's mimetypes reads the registry there, which labsync does not.
  if (process.platform === 'win32') return { reason: 'Content-Type would come from the Windows registry' };
  const files = [...plan.send, ...plan.replace];
  // Its URL would name another object (`tmp/../model.bin` is `model.bin` once parsed): aws-cli sends the key as written.
  const odd = firstOdd([...files, ...plan.delete].map((f) => f.path));
  if (odd !== undefined) return { reason: `the key ${JSON.stringify(odd)} has an empty, "." or ".." segment` };
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (files.some((f) => f.size >= AWS_MULTIPART_THRESHOLD)) return { reason: 'a file aws-cli would upload in parts' };
  if (pair.backup && (plan.replace.length || plan.delete.length)) return { reason: 'aws-cli copies the replaced objects into the backup prefix' };
  const foreign = foreignOption(copyOneArgv(pair, 'push', 'k'));
  if (foreign) return { reason: `aws-cli would be passed ${foreign}` };
  const target = targetOf(lister, env);
  if (!target || 'reason' in target) return { reason: target?.reason ?? 'not S3' };
  return { target, send: files.map((f) => f.path), gone: plan.delete.map((f) => f.path), bytes };
}

/** What --json's commands and the receipt say moved the files. */
export function describePush(d: DirectPush): string {
  const where = objectUrl(d.target, '').href;
  const puts = d.send.length ? `PUT ${d.send.length} object${d.send.length === 1 ? '' : 's'} (${d.bytes} bytes)` : '';
  const dels = d.gone.length ? `DELETE ${d.gone.length} object${d.gone.length === 1 ? '' : 's'}` : '';
  return `${[puts, dels].filter(Boolean).join(', then ')} under ${where} (labsync's own S3 client, not aws-cli)`;
}

/** A store that answers a request labsync makes differently from aws-cli's (a header it does not take): aws-cli does it. */
// PermanentRedirect / AuthorizationHeaderMalformed: the bucket lives in another region than labsync
// signed for; aws-cli follows S3's answer there.
const NOT_LIKE_AWS = /^(NotImplemented|InvalidRequest|InvalidArgument|SignatureDoesNotMatch|MissingContentLength|InvalidDigest|PermanentRedirect|AuthorizationHeaderMalformed|IllegalLocationConstraintException)$/;
const REFUSED = /^(AccessDenied|InvalidAccessKeyId|XAdminUserNotFound|ExpiredToken|InvalidToken|NoSuchBucket)$/;

type Step = { readonly path: string; readonly run: () => Promise<S3Written> };

/** How often the push says how far it is (what aws-cli's and rsync's progress lines give the run's heartbeat and spinner). */
const PROGRESS_EVERY_MS = 500;

/** Counts the objects written and their bytes, and says so at most every PROGRESS_EVERY_MS. */
function progressOf(d: DirectPush, { pair, emit }: Pick<AttemptContext, 'pair' | 'emit'>): (bytes: number) => void {
  let files = 0;
  let bytes = 0;
  let said = 0;
  return (size) => {
    files += 1;
    bytes += size;
    const now = performance.now();
    if (now - said < PROGRESS_EVERY_MS && files < d.send.length) return;
    said = now;
    emit({ kind: 'pair_progress', pair: pair.name, progress: { files, bytes, ...(d.bytes > 0 ? { percent: Math.min(100, Math.floor((bytes * 100) / d.bytes)) } : {}) } });
  };
}

/**
 * PUTs, then DELETEs, with the engine's retry loop: a transient failure (no answer, 5xx, a digest the
 * store found wrong) sends what is not done yet again after a backoff, up to the pair's retries.
 * `fallback`: the store refused a request aws-cli would make otherwise; aws-cli should do the push.
 */
export async function pushDirect(d: DirectPush, ctx: AttemptContext): Promise<Attempted | { kind: 'fallback'; reason: string; sent: ReadonlySet<string> }> {
  const { pair, emit } = ctx;
  const progress = progressOf(d, ctx);
  // A silent server fails a request within the stall bound, plus time for its bytes at 128 KiB/s.
  const bound = (size: number): number => Math.min(60_000, pair.stallTimeoutMs) + Math.ceil(size / 128);
  // The pair's timeout bounds each attempt as a whole, as it bounds each aws-cli command.
  let deadline = pair.timeoutMs > 0 ? bounded(ctx.signal, pair.timeoutMs) : undefined;
  const live = (): AbortSignal => deadline?.signal ?? ctx.signal;
  const put = (path: string): Step => ({
    path,
    run: async () => {
      let body: Buffer;
      try {
        // Synchronous: a file under 8 MiB reads in milliseconds, and a FileHandle per file cost more CPU
        // than the read itself (a first push of 1000 × 50 KiB: ~0.3 s in open/close, from a CPU profile).
        body = readFileSync(join(pair.local, path));
      } catch (error) {
        // Gone or unreadable since the listing: aws-cli meets it as before, with its own message and exit.
        return { ok: false, retry: false, reason: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, code: 'Unreadable' };
      }
      // Grown past the threshold since it was listed: aws-cli would upload it in parts.
      if (body.length >= AWS_MULTIPART_THRESHOLD) return { ok: false, retry: false, reason: 'grown', code: 'Grown' };
      const answer = await putObject(d.target, path, body, guessContentType(join(pair.local, path)), { signal: live(), requestTimeoutMs: bound(body.length) });
      if (answer.ok) progress(body.length);
      return answer;
    },
  });
  const del = (path: string): Step => ({ path, run: () => deleteObject(d.target, path, { signal: live(), requestTimeoutMs: bound(0) }) });
  const done = new Set<Step>();
  // Deletions only after every PUT succeeded (the --delete-delay promise): two phases.
  const phases = [d.send.map(put), d.gone.map(del)];
  for (let n = 1; ; n++) {
    let failed: { step: Step; answer: Extract<S3Written, { ok: false }>; verb: string } | undefined;
    let timedOut = false;
    for (const [i, phase] of phases.entries()) {
      const verb = i === 0 ? 'PUT' : 'DELETE';
      const todo = phase.filter((s) => !done.has(s));
      let next = 0;
      const stopped = (): boolean => Boolean(failed) || timedOut || ctx.signal.aborted;
      // PARALLEL lanes, each starting the next request as its last one ends (a slow object holds one
      // lane, not a batch of ten); none starts after a failure, a stop or the attempt's deadline.
      const lane = async (): Promise<void> => {
        while (next < todo.length && !stopped()) {
          const step = todo[next++] as Step;
          const answer = await step.run();
          if (answer.ok) done.add(step);
          // The deadline cut the requests in flight short ("interrupted"): a time-out, retried as before
          // (review 44: recorded as the request's own failure, it had ended the pair for good).
          else if (deadline?.timedOut()) timedOut = true;
          else failed ??= { step, answer, verb };
          if (deadline?.timedOut()) timedOut = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, lane));
      if (ctx.signal.aborted) {
        deadline?.done();
        return { kind: 'interrupted', attempts: n };
      }
      const left = todo.find((s) => !done.has(s));
      if (timedOut && !failed && left) failed = { step: left, answer: { ok: false, retry: true, reason: `timed out after ${Math.round(pair.timeoutMs / 1000)}s` }, verb };
      if (failed) break;
    }
    deadline?.done();
    if (!failed) return { kind: 'ok', outputs: [], attempts: n, warnings: [] };
    const { answer, step, verb } = failed;
    const code = answer.code ?? '';
    if (code === 'Grown' || code === 'Unreadable' || (verb === 'PUT' && NOT_LIKE_AWS.test(code))) {
      // Only the PUT phase falls back: every step done is a PUT.
      const sent = new Set([...done].map((s) => s.path));
      return { kind: 'fallback', reason: code === 'Grown' ? `${step.path} grew past ${AWS_MULTIPART_THRESHOLD} bytes` : answer.reason, sent };
    }
    const command = `${verb} ${ctx.redact(objectUrl(d.target, step.path).href)} (labsync's own S3 client)`;
    if (!answer.retry || REFUSED.test(code) || n > pair.retries) {
      const hint = REFUSED.test(code) && code !== 'NoSuchBucket' ? { hint: 'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment' } : {};
      const reason = code === 'NoSuchBucket' ? `the bucket does not exist: ${answer.reason}` : answer.retry ? `${answer.reason} (after ${n} attempt${n === 1 ? '' : 's'})` : answer.reason;
      const kind = answer.retry && !REFUSED.test(code) ? ('retry' as const) : ('fatal' as const);
      return { kind: 'failed', outcome: { kind, reason, ...hint }, command, attempts: n };
    }
    const delayMs = backoffDelay(n, pair.retryDelayMs);
    emit({ kind: 'pair_retry', pair: pair.name, attempt: n, delayMs, reason: answer.reason });
    if (!(await sleep(delayMs, ctx.signal))) return { kind: 'interrupted', attempts: n };
    deadline = pair.timeoutMs > 0 ? bounded(ctx.signal, pair.timeoutMs) : undefined;
  }
}
