// labsync's own S3 listing: paginated ListObjectsV2 over HTTP from node, signed with SigV4. It costs
// what the server costs: no python start, no JSON of everything, no second parse (issue 12).
import { parseListPage } from '../adapters/aws/parse-xml.js';
import type { Entry } from '../verify/compare.js';
import type { S3Target } from './s3-direct.js';
import { bounded } from './bounded.js';
import { canonicalQuery, signGet, uriEncode } from './sigv4.js';

export interface S3ListOptions {
  readonly signal: AbortSignal;
  /** Each request's own bound: a server that stops answering fails the listing, never hangs it. */
  readonly requestTimeoutMs: number;
  readonly now?: () => Date;
  /** Objects per page (S3's default and most: 1000); smaller only to test the paging. */
  readonly pageSize?: number;
  /** Only keys starting with this, below the target's prefix (one object looked up by its key). */
  readonly under?: string;
}

/** The URL of one page (query in canonical order, so the signed string is the sent one). */
export function pageUrl(t: S3Target, token?: string, pageSize?: number, under = ''): URL {
  const prefix = `${t.prefix ? `${t.prefix}/` : ''}${under}`;
  const query: Record<string, string> = {
    // No prefix at all for the whole bucket: moto reads an empty one as "/".
    'list-type': '2', ...(prefix ? { prefix } : {}),
    ...(token ? { 'continuation-token': token } : {}), ...(pageSize ? { 'max-keys': String(pageSize) } : {}),
  };
  const path = t.pathStyle ? `${t.base.pathname.replace(/\/$/, '')}/${uriEncode(t.bucket)}` : '/';
  return new URL(`${t.base.origin}${path}?${canonicalQuery(query)}`);
}

/** Every object under the prefix; the number of pages taken goes to `pages`. Throws on any answer but 200. */
export async function listS3(t: S3Target, o: S3ListOptions, pages: { n: number } = { n: 0 }): Promise<Entry[]> {
  const out: Entry[] = [];
  let token: string | undefined;
  do {
    const url = pageUrl(t, token, o.pageSize, o.under);
    const headers = signGet(url, t.region, t.creds, (o.now ?? (() => new Date()))());
    const bound = bounded(o.signal, o.requestTimeoutMs);
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, { headers, signal: bound.signal, redirect: 'manual' });
      body = await res.text();
    } catch (error) {
      // The callers tell a silent server by this name.
      if (bound.timedOut()) throw Object.assign(new Error(`no answer in ${o.requestTimeoutMs} ms`), { name: 'TimeoutError' });
      throw error;
    } finally {
      bound.done();
    }
    pages.n += 1;
    if (res.status !== 200) {
      const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
      throw new Error(`HTTP ${res.status}${code ? ` ${code}` : ''}`);
    }
    const page = parseListPage(body, t.prefix);
    for (const e of page.entries) out.push(e);
    token = page.next;
  } while (token);
  return out;
}
