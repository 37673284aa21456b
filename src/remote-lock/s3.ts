// The lock as one S3 object written conditionally: If-None-Match: * creates it only where none is,
// If-Match: <ETag> renews, takes over and deletes it only while it is the one read. Both moto 5.2 and
// versitygw answer 412 PreconditionFailed to a condition that does not hold (tried on loopback). Some
// stores ignore the headers (older MinIO, Ceph and NAS gateways): a review saw a second run write over
// a live holder's lock and both go on. So a lock already there is never written over by a create (it
// is read first, and judged by the caller), and before its first create a run asks the store
// whether it honours If-None-Match, on a key of its own; one that does not holds no lock (said, as
// for rclone remotes). A yes is remembered (s3-conditions.ts): later runs neither ask nor read first.
// The holder is read back after each create too.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
import { randomBytes } from 'node:crypto';
import { BACKUP_DIR } from '../adapters/own-excludes.js';
import type { S3Target } from '../exec/s3-direct.js';
import { bounded } from '../exec/bounded.js';
import { payloadHash, signRequest, uriEncode } from '../exec/sigv4.js';
import { parseHolder, REMOTE_LOCK_NAME, type Holder } from './holder.js';
import { FatalLockError, NothingToLockError, type Found, type LockBackend } from './types.js';

export interface S3LockOptions {
  /** Each request's own bound: a server that stops answering fails the lock, never hangs it. */
  readonly requestTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** Requests made, for the cost measurement and the tests. */
  readonly count?: { n: number };
  /** A pull: credentials that may read the bucket but not write its lock read it without one. */
  readonly pull?: boolean;
  /** This store was found to honour If-None-Match before (s3-conditions.ts): no probe (the read before a create stays). */
  readonly honours?: boolean;
  /** Called once a probe found that it does, to be remembered. */
  readonly onHonours?: () => void;
  /** Called when a create was found to have ignored the condition: what was remembered is forgotten. */
  readonly onIgnored?: () => void;
}


export function lockUrl(t: S3Target, name = REMOTE_LOCK_NAME): URL {
  const key = `${t.prefix ? `${t.prefix}/` : ''}${name}`;
  const path = t.pathStyle ? `${t.base.pathname.replace(/\/$/, '')}/${uriEncode(t.bucket)}/${uriEncode(key, true)}` : `/${uriEncode(key, true)}`;
  return new URL(`${t.base.origin}${path}`);
}

export function s3Lock(t: S3Target, o: S3LockOptions): LockBackend {
  const url = lockUrl(t);
  const where = `s3://${t.bucket}/${t.prefix ? `${t.prefix}/` : ''}${REMOTE_LOCK_NAME}`;
  const send = async (method: 'GET' | 'PUT' | 'DELETE', conditions: Record<string, string>, body?: string, at: URL = url): Promise<{ status: number; etag: string; text: string; date: string; lastModified: string }> => {
    const headers = { ...signRequest(method, at, t.region, t.creds, new Date(), body === undefined ? 'UNSIGNED-PAYLOAD' : payloadHash(body)), ...conditions };
    const bound = bounded(o.signal ?? new AbortController().signal, o.requestTimeoutMs);
    if (o.count) o.count.n += 1;
    let res: Response;
    let text: string;
    try {
      res = await fetch(at, { method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' }, signal: bound.signal, redirect: 'manual', ...(body === undefined ? {} : { body }) });
      text = await res.text();
    } catch (error) {
      const why = bound.timedOut() ? `no answer in ${o.requestTimeoutMs} ms` : String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
      throw new Error(`${method} ${where}: ${why}`);
    } finally {
      bound.done();
    }
    return { status: res.status, etag: res.headers.get('etag') ?? '', text, date: res.headers.get('date') ?? '', lastModified: res.headers.get('last-modified') ?? '' };
  };
  const fail = (what: string, r: { status: number; text: string }): Error => {
    const code = /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];
    const said = `${what} ${where}: HTTP ${r.status}${code ? ` ${code}` : ''}`;
    // No bucket: the tool's own run says what is wrong.
    if (code === 'NoSuchBucket') return new NothingToLockError(`bucket ${t.bucket} does not exist`);
    // The bucket lives in another region than labsync signs for: aws-cli, which moves the files, follows
    // S3 there; the lock cannot. Said, and the run goes on without it (it could never run otherwise).
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || code === 'IllegalLocationConstraintException') return new NothingToLockError(`${said}: the bucket answers from another region than this one (set region: on the remote to lock it)`);
    // Refused (403: AccessDenied, a wrong key): asking again changes nothing (a review saw a read-only
    // pull retried, then failed). A pull reads without the lock; a push cannot go on.
    if (r.status !== 403) return new Error(said);
    const verb = what === 'reading' ? 'read' : 'write';
    return o.pull ? new NothingToLockError(`${said}: these credentials may not ${verb} the lock; this pull reads without it`) : new FatalLockError(`${said}: these credentials may not ${verb} there; nothing was run`);
  };
  const read = async (): Promise<Found | undefined> => {
    const r = await send('GET', {});
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw fail('reading', r);
    // Both stamps are the store's: how old the lock is, whatever this machine's clock says. Whole
    // seconds each, rounded apart (versitygw): a lock written this second can read a second "ahead".
    const age = Date.parse(r.date) - Date.parse(r.lastModified);
    return { holder: parseHolder(r.text), tag: r.etag, ...(Number.isFinite(age) && age > -5000 ? { age: Math.max(0, age) } : {}) };
  };
  /** Write-then-read: a server that ignored the condition shows another holder (or ours over theirs, which a read cannot tell). */
  const confirm = async (h: Holder, etag: string): Promise<{ ok: string } | 'changed'> => {
    const now = await read();
    if (now?.holder?.token !== h.token) return 'changed';
    return { ok: now.tag || etag };
  };
  const put = async (h: Holder, conditions: Record<string, string>): Promise<{ ok: string } | 'failed'> => {
    const r = await send('PUT', conditions, JSON.stringify(h));
    if (r.status === 200) return { ok: r.etag };
    // 409 ConditionalRequestConflict: another conditional write to the key was under way (AWS).
    if (r.status === 412 || r.status === 409) return 'failed';
    if (r.status === 404 && r.text.includes('<Code>NoSuchBucket</Code>')) throw new NothingToLockError(`bucket ${t.bucket} does not exist`);
    throw fail('writing', r);
  };
  /** Whether the store refuses a second create of one key under If-None-Match: * (on a key of this run's own, removed after). */
  const honoursConditions = async (): Promise<boolean> => {
    // Inside labsync's backup folder, which every listing and transfer leaves out: a probe a killed run
    // left there is never pulled, counted or deleted as data.
    const probe = lockUrl(t, `${BACKUP_DIR}/${REMOTE_LOCK_NAME}-probe-${randomBytes(6).toString('hex')}`);
    const body = '{"probe":"labsync: does this store honour If-None-Match?"}';
    try {
      for (const round of [1, 2]) {
        const r = await send('PUT', { 'if-none-match': '*' }, body, probe);
        // 412 (or 409, a conflicting conditional write) honours the header; a 200 ignored it; anything
        // else (503 SlowDown, a reset) says neither: failed, and tried again as any lock request.
        if (round === 2 && (r.status === 412 || r.status === 409)) return true;
        if (r.status !== 200) throw fail('writing', r);
      }
      return false;
    } finally {
      await send('DELETE', {}, undefined, probe).catch(() => undefined);
    }
  };
  let checked = Boolean(o.honours);
  /** Before a run's first create or takeover: a store that ignores conditions holds no lock. */
  const mustHonour = async (): Promise<void> => {
    if (checked) return;
    if (!(await honoursConditions())) throw new NothingToLockError(`the S3 store at ${t.base.origin} ignores If-None-Match (conditional writes), so it cannot hold a lock; runs on other machines are not kept out (remote_lock: false says so for good)`);
    checked = true;
    o.onHonours?.();
  };
  return {
    where,
    read,
    async acquire(h) {
      // A lock already there is the caller's to judge (live, or stale and taken over by its ETag): never
      // written over by a create, even on a store that ignores If-None-Match. A read refused (403: AWS
      // answers a missing key so without s3:ListBucket) says nothing either way: the conditional create
      // and its read-back judge then.
      // Even on a store known to honour the condition: what was remembered may no longer hold for it.
      const there = await read().catch((error: unknown) => {
        if (error instanceof FatalLockError || error instanceof NothingToLockError) return undefined;
        throw error;
      });
      if (there) return 'exists';
      await mustHonour();
      const r = await put(h, { 'if-none-match': '*' });
      if (r === 'failed') return 'exists';
      const c = await confirm(h, r.ok);
      if (c === 'changed') o.onIgnored?.();
      if (c === 'changed') throw new Error(`the S3 server at ${t.base.origin} ignored If-None-Match (another holder's lock was overwritten or overwrote this one): it cannot hold a lock; set remote_lock: false for this pair`);
      return c;
    },
    async takeOver(h, stale) {
      await mustHonour();
      const r = await put(h, { 'if-match': stale.tag });
      if (r === 'failed') return 'changed';
      const c = await confirm(h, r.ok);
      // Written, yet another holder reads back: the If-Match was ignored, so what was remembered is wrong.
      if (c === 'changed') o.onIgnored?.();
      return c;
    },
    async renew(h, tag) {
      const r = await put(h, { 'if-match': tag });
      return r === 'failed' ? 'lost' : r;
    },
    async release(tag) {
      const r = await send('DELETE', tag === undefined ? {} : { 'if-match': tag });
      if (r.status === 204 || r.status === 200) return 'ok';
      if (r.status === 404) return 'gone';
      if (r.status === 412) return 'changed';
      throw fail('removing', r);
    },
  };
}
