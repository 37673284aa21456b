// What a bisync pair held when it last synced, from rclone's own listings of that run (kept in the
// pair's workdir as <path1>..<path2>.path1.lst and .path2.lst). rclone's --max-delete judges each side
// by itself: 5 of 10 files deleted on each side passed 50%, and both sides ended empty. labsync judges
// the deletions of both sides together against what both held after the last sync.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bisyncWorkdir, location } from '../adapters/rclone/argv.js';
import type { ResolvedPair } from '../types.js';

/** Files in a bisync listing: one line each, after its `#` header. */
export const listedFiles = (text: string): number => text.split('\n').filter((l) => l && !l.startsWith('#')).length;

/**
 * How many files the last sync left (the larger side's listing), or undefined where rclone has no
 * listing of both sides (a first run, or listings lost or set aside after a failure): then a dry run
 * would read leftovers of an earlier dry run (`.lst-dry`) and the run itself needs --resync.
 * The workdir is the pair's, but rclone names listings by its two paths: a folder moved or a remote
 * edited leaves an earlier session's listings beside the current one. The newest complete session is
 * the one rclone last synced. `recovers` (rclone ≥ 1.66 with --recover): a session whose listings were
 * set aside as `.lst-old` is one rclone picks up from.
 */
export function lastSynced(pair: ResolvedPair, recovers = false): number | undefined {
  const dir = bisyncWorkdir(pair);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const suffixes = recovers ? ['', '-old'] : [''];
  // rclone's own name for this pair's session, where it can be told; else (a path rclone writes
  // otherwise than computed here) the newest complete session.
  const own = sessionName(pair.local, location(pair.remote).path);
  const mine = names.filter((n) => n.startsWith(`${own}.path`));
  let best: { mtimeMs: number; files: number } | undefined;
  for (const name of mine.length ? mine : names) {
    const m = /^(.*)\.path1\.lst(-old)?$/.exec(name);
    if (!m || !suffixes.includes(m[2] ?? '')) continue;
    const other = join(dir, `${m[1]}.path2.lst${m[2] ?? ''}`);
    try {
      const one = statSync(join(dir, name));
      const files = Math.max(listedFiles(readFileSync(join(dir, name), 'utf8')), listedFiles(readFileSync(other, 'utf8')));
      // A live listing beats its own set-aside copy; otherwise the newer session wins.
      const rank = one.mtimeMs + (m[2] ? 0 : 1);
      if (!best || rank > best.mtimeMs) best = { mtimeMs: rank, files };
    } catch {
      // half a session (path2 missing): not one rclone can sync from
    }
  }
  return best?.files;
}

/**
 * rclone's name for a bisync session of two paths (bilib SessionName): each path with a trailing
 * slash, trimmed of slashes and backslashes at both ends, whitespace and \\ / : ? * made `_`.
 */
export function sessionName(path1: string, path2: string): string {
  const canonical = (p: string): string => `${p}/`.replace(/^[\\/]+|[\\/]+$/g, '').replace(/[\s\\/:?*]/g, '_');
  return `${canonical(path1)}..${canonical(path2)}`;
}
