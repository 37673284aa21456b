// `watch --drain-on-notice URL`: poll a cloud's termination-notice endpoint. Only the URL the user
// gives is ever contacted, never one by default.
//   AWS  http://169.254.169.254/latest/meta-data/spot/instance-action: 404 until a notice, then 200
//        with a JSON body (IMDSv1; an instance that requires IMDSv2 tokens answers 401, said as a warning).
//   GCP  http://metadata.google.internal/computeMetadata/v1/instance/preempted: 200 "FALSE", then "TRUE";
//        it requires the Metadata-Flavor header, which AWS ignores.
import { UsageError } from '../errors.js';

export function noticeUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--drain-on-notice needs an http(s) URL, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--drain-on-notice needs an http(s) URL, got '${text}'`);
  return url;
}

/** A 200 with a body is a notice, except GCP's "FALSE" (not preempted). */
export function isNotice(status: number, body: string): boolean {
  const text = body.trim();
  return status === 200 && text !== '' && text.toUpperCase() !== 'FALSE';
}

/** Every `LABSYNC_NOTICE_INTERVAL_MS` (default 5 s), at most one request at a time. */
export function noticeIntervalMs(env = process.env): number {
  const n = Number(env.LABSYNC_NOTICE_INTERVAL_MS ?? 5000);
  return Number.isFinite(n) && n >= 10 ? n : 5000;
}

/**
 * Polls until a notice (`onNotice`, once) or `stop()`. A request that does not answer within 2 s is
 * abandoned (the next starts only after it); each kind of failure is said once, then polling goes on.
 */
export function pollNotice(url: URL, intervalMs: number, onNotice: (body: string) => void, onProblem: (message: string) => void): () => void {
  let stopped = false;
  let busy = false;
  const said = new Set<string>();
  const problem = (message: string): void => {
    if (said.has(message)) return;
    said.add(message);
    onProblem(message);
  };
  const poll = async (): Promise<void> => {
    if (busy || stopped) return;
    busy = true;
    try {
      const r = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(2000), redirect: 'error' });
      const body = await r.text();
      if (stopped) return;
      if (isNotice(r.status, body)) {
        stopped = true;
        clearInterval(timer);
        onNotice(body.trim());
      } else if (r.status !== 200 && r.status !== 404) problem(`termination notice ${url.href}: HTTP ${r.status}`);
    } catch (error) {
      // fetch says only 'fetch failed'; its cause says why (ECONNREFUSED, 'bad port').
      const e = error as Error & { cause?: { code?: string; message?: string } };
      problem(`termination notice ${url.href}: ${e.name === 'TimeoutError' ? 'no answer within 2s' : (e.cause?.code ?? e.cause?.message ?? e.message)}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  void poll();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
