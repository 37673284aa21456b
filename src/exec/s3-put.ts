// labsync's own S3 writes for a small push: one PUT per object, one DELETE per removed key. A PUT
// carries the body's MD5 (Content-MD5) and SHA-256 (signed payload and x-amz-checksum-sha256), so a
// store that received other bytes refuses the object (BadDigest / XAmzContentSHA256Mismatch) instead
// of keeping it; an object appears under its name only when its PUT completes. The headers are those
// aws-cli 1.x sends for `s3 cp --checksum-algorithm SHA256` (captured on loopback), plus Content-MD5.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
import { createHash } from 'node:crypto';
import type { S3Target } from './s3-direct.js';
import { objectUrl } from './s3-meta.js';
import { bounded } from './bounded.js';
import { signRequest } from './sigv4.js';

export interface S3WriteOptions {
  readonly signal: AbortSignal;
  /** Each request's own bound: a server that stops answering fails the request, never hangs it. */
  readonly requestTimeoutMs: number;
  readonly now?: () => Date;
}

/** A request's answer: done, or why not and whether sending it again can succeed. */
export type S3Written = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly reason: string; readonly status?: number; readonly code?: string };

/** The headers of a PUT of `body`, signed (aws-cli's set: content-type when guessed, the SHA-256 checksum; and Content-MD5). */
export function putHeaders(url: URL, t: S3Target, body: Uint8Array, contentType: string | undefined, now: Date, md5: Buffer = createHash('md5').update(body).digest()): Record<string, string> {
  const sha = createHash('sha256').update(body).digest();
  const signed = {
    'content-md5': md5.toString('base64'),
    ...(contentType ? { 'content-type': contentType } : {}),
    'x-amz-checksum-sha256': sha.toString('base64'),
    'x-amz-sdk-checksum-algorithm': 'SHA256',
  };
  return signRequest('PUT', url, t.region, t.creds, now, sha.toString('hex'), signed);
}

// Worth another try: the store or the link failed this time (S3's own advice for 500/503 and SlowDown).
const TRANSIENT_CODES = /^(SlowDown|RequestTimeout|InternalError|ServiceUnavailable|BadDigest|XAmzContentSHA256Mismatch|InvalidDigest|RequestTimeTooSkewed)$/;

/** One request with its bound; a network failure or a silent server is an answer, not a throw. */
async function send(method: 'PUT' | 'DELETE', url: URL, headers: Record<string, string>, o: S3WriteOptions, body?: Buffer): Promise<S3Written> {
  const bound = bounded(o.signal, o.requestTimeoutMs);
  let res: Response;
  let text = '';
  try {
    res = await fetch(url, { method, headers, signal: bound.signal, redirect: 'manual', ...(body ? { body: new Uint8Array(body.buffer, body.byteOffset, body.length) as Uint8Array<ArrayBuffer> } : {}) });
    text = await res.text();
  } catch (error) {
    if (o.signal.aborted) return { ok: false, retry: false, reason: 'interrupted' };
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const why = bound.timedOut() ? `no answer in ${Math.round(o.requestTimeoutMs / 1000)} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, retry: true, reason: `could not reach ${url.origin}: ${why}` };
  } finally {
    bound.done();
  }
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const retry = res.status >= 500 || res.status === 429 || Boolean(code && TRANSIENT_CODES.test(code));
  return { ok: false, retry, reason: `HTTP ${res.status}${code ? ` ${code}` : ''}`, status: res.status, ...(code ? { code } : {}) };
}

/** PUT `body` as the object at `path` (below the target's prefix). */
export function putObject(t: S3Target, path: string, body: Buffer, contentType: string | undefined, o: S3WriteOptions, md5?: Buffer): Promise<S3Written> {
  const url = objectUrl(t, path);
  return send('PUT', url, putHeaders(url, t, body, contentType, (o.now ?? (() => new Date()))(), md5), o, body);
}

/** DELETE the object at `path`; S3 answers 204 whether or not it was there. */
export function deleteObject(t: S3Target, path: string, o: S3WriteOptions): Promise<S3Written> {
  const url = objectUrl(t, path);
  return send('DELETE', url, signRequest('DELETE', url, t.region, t.creds, (o.now ?? (() => new Date()))()), o);
}
