// Pure: AWS Signature Version 4 for one request, enough for labsync's own S3 listing and its remote lock.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
import { createHash, createHmac } from 'node:crypto';

export interface S3Credentials { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }

/** RFC 3986 unreserved characters stay; everything else is %XX (S3 wants "/" encoded in query values). */
export function uriEncode(s: string, keepSlash = false): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(keepSlash ? /%2F/g : /$^/, '/');
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

/** The canonical query string: pairs sorted by encoded name, then value. */
export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.entries(query).map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/** The headers a GET of `url` (path already encoded, query from `canonicalQuery`) must carry, Authorization included. */
export function signGet(url: URL, region: string, creds: S3Credentials, now: Date, payload = 'UNSIGNED-PAYLOAD'): Record<string, string> {
  return signRequest('GET', url, region, creds, now, payload);
}

/** The body's SHA-256, as `payload` for a request that carries one. */
export const payloadHash = (body: string): string => sha256(body);

/**
 * Any method; headers not signed here (If-Match, If-None-Match) may be added to the result and are sent
 * as they are. `signed`: headers (lower-case names) signed and returned with the rest — S3 wants every
 * x-amz-* header and a Content-MD5 signed.
 */
export function signRequest(method: string, url: URL, region: string, creds: S3Credentials, now: Date, payload = 'UNSIGNED-PAYLOAD', signed: Readonly<Record<string, string>> = {}): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...signed, host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate,
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const request = [method, url.pathname, url.search.replace(/^\?/, ''), ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), payload].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(request)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
