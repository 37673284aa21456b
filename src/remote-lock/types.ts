// One interface for a lock at a pair's remote; one small backend per kind of remote (s3.ts, ssh.ts, local.ts).
import type { Holder } from './holder.js';

/** A holder as read, with what a conditional change must name (S3: the ETag; a lock folder: the holder's token). */
export interface Found {
  readonly holder: Holder | undefined;
  readonly tag: string;
  /** How long ago (ms) the holder was written, by the store's own clock, where it tells (S3's Date and Last-Modified; the host's clock and the file's mtime). */
  readonly age?: number;
}

export interface LockBackend {
  /** Where the lock lives, in the user's words: s3://bucket/prefix/.labsync-lock, host:/path/.labsync-lock. */
  readonly where: string;
  /** Create the lock if there is none: `ok` (with the tag to renew by) or `exists`. */
  acquire(h: Holder): Promise<{ ok: string } | 'exists'>;
  /** The lock as it stands; undefined when there is none. `holder` undefined: something unreadable is there. */
  read(): Promise<Found | undefined>;
  /** Take over a lock whose lease ran out, only if it is still the one read (`tag`). */
  takeOver(h: Holder, stale: Found): Promise<{ ok: string } | 'changed'>;
  /** Write the renewed holder, only if the lock is still ours. */
  renew(h: Holder, tag: string): Promise<{ ok: string } | 'lost'>;
  /** Remove the lock if it is still `tag` (ours, or the one `unlock` showed); undefined tag: whatever is there. */
  release(tag: string | undefined): Promise<'ok' | 'changed' | 'gone'>;
}

/** Nothing to lock here (a bucket or a pull's remote folder that does not exist; a host without mkdir, mv, rm): the tool's own run says what is wrong. */
export class NothingToLockError extends Error {}

/** A remote that cannot hold a lock (rclone: no conditional writes labsync can use), and why. */
export interface NoRemoteLock { readonly fallback: string }

/** A failure retrying cannot mend (a refused ssh key, credentials that may not write the lock): the pair fails with it at once. */
export class FatalLockError extends Error {}
