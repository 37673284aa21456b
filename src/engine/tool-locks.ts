// A lock a killed tool left behind (bisync ≥ 1.66 writes NAME.lck with its PID and keeps it until
// --max-lock expires). labsync already holds its own lock for the pair, so no other labsync run is
// using it; a lock whose process is gone only blocks the recovery run that should follow. Removed
// only when its PID is dead on this machine (its folder is labsync's own state, never shared).
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Adapter, PlanContext } from '../adapters/types.js';
import { pidAlive } from '../state/lock.js';
import type { Direction, ResolvedPair } from '../types.js';

/** The stale lock files removed, each with the PID it named. */
export async function clearStaleToolLocks(adapter: Adapter, pair: ResolvedPair, direction: Direction, ctx: PlanContext): Promise<{ file: string; pid: number }[]> {
  const lock = adapter.toolLock?.(pair, direction, ctx);
  if (!lock) return [];
  const names = await readdir(lock.dir).catch(() => [] as string[]);
  const removed: { file: string; pid: number }[] = [];
  for (const name of names.filter((n) => n.endsWith('.lck'))) {
    const file = join(lock.dir, name);
    const pid = lock.pidOf(await readFile(file, 'utf8').catch(() => ''));
    // Unreadable or a live PID: left alone, and the tool's own "prior lock file found" stop stands.
    if (pid === undefined || pid === process.pid || pidAlive(pid)) continue;
    await rm(file, { force: true });
    removed.push({ file, pid });
  }
  return removed;
}
