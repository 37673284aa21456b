// Waiting for something a real process does (a lock file, a child started): polled, with a bound, so
// a test that never sees it fails naming what it waited for instead of hanging.
/** Polls `ok` every `everyMs` (50) until it holds; fails after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Past the hash cache's racy window (hash-cache.ts: a file changed within a second of being hashed is
 * never remembered, judged by mtime and ctime): after this, what a run hashes it remembers, however
 * fast the next run follows.
 */
export const pastRacyWindow = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));
