// The MD5 rclone keeps beside an object whose ETag is not one (a multipart upload): its
// X-Amz-Meta-Md5chksum header (base64). rclone reads it with a HEAD per such object while it lists;
// labsync asks for the first byte instead (a signed GET with a Range), which answers the same
// headers through the one signer it has (sigv4.ts signs GETs).
import type { S3Target } from './s3-direct.js';
import { bounded } from './bounded.js';
import { signGet, uriEncode } from './sigv4.js';

export interface S3MetaOptions {
  readonly signal: AbortSignal;
  readonly requestTimeoutMs: number;
  readonly now?: () => Date;
}

/** The URL of one object (`path` below the target's prefix), its key encoded as SigV4 wants it. */
export function objectUrl(t: S3Target, path: string): URL {
  const key = uriEncode(`${t.prefix ? `${t.prefix}/` : ''}${path}`, true);
  const base = t.pathStyle ? `${t.base.pathname.replace(/\/$/, '')}/${uriEncode(t.bucket)}` : '';
  return new URL(`${t.base.origin}${base}/${key}`);
}

/** The object's md5chksum as hex; undefined when it has none. Throws on any answer but 200/206. */
export async function readMd5Meta(t: S3Target, path: string, o: S3MetaOptions, ranged = true): Promise<string | undefined> {
  const url = objectUrl(t, path);
  // One byte of the body, not all of it; an empty object has no byte 0 (416): asked again whole.
  const headers = { ...signGet(url, t.region, t.creds, (o.now ?? (() => new Date()))()), ...(ranged ? { range: 'bytes=0-0' } : {}) };
  const bound = bounded(o.signal, o.requestTimeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: bound.signal, redirect: 'manual' });
    await res.arrayBuffer();
  } catch (error) {
    if (bound.timedOut()) throw Object.assign(new Error(`no answer in ${o.requestTimeoutMs} ms`), { name: 'TimeoutError' });
    throw error;
  } finally {
    bound.done();
  }
  if (res.status === 416 && ranged) return readMd5Meta(t, path, o, false);
  if (res.status !== 200 && res.status !== 206) throw new Error(`HTTP ${res.status} reading the metadata of ${path}`);
  const b64 = res.headers.get('x-amz-meta-md5chksum');
  if (!b64) return undefined;
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return /^[0-9a-f]{32}$/.test(hex) ? hex : undefined;
}
