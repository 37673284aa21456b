// What a bisync pair held when it last synced, from rclone's own listings of that run (kept in the
// pair's workdir as <path1>..<path2>.path1.lst and .path2.lst). rclone's --max-delete judges each side
// by itself: 5 of 10 files deleted on each side passed 50%, and both sides ended empty. labsync judges
// the deletions of both sides together against what both held after the last sync.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bisyncWorkdir } from '../adapters/rclone/argv.js';
import type { ResolvedPair } from '../types.js';

/** Files in a bisync listing: one line each, after its `#` header. */
export const listedFiles = (text: string): number => text.split('\n').filter((l) => l && !l.startsWith('#')).length;

/**
 * How many files the last sync left (the larger side's listing), or undefined where rclone has no
 * listing of both sides (a first run, or listings lost or set aside after a failure): then a dry run
 * would read leftovers of an earlier dry run (`.lst-dry`) and the run itself needs --resync.
 */
export function lastSynced(pair: ResolvedPair): number | undefined {
  const dir = bisyncWorkdir(pair);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const counts: number[] = [];
  for (const side of ['.path1.lst', '.path2.lst']) {
    const name = names.find((n) => n.endsWith(side));
    if (!name) return undefined;
    try {
      counts.push(listedFiles(readFileSync(join(dir, name), 'utf8')));
    } catch {
      return undefined;
    }
  }
  return Math.max(...counts);
}
