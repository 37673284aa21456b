// Pure: rclone's --use-json-log lines and --combined output → changes, stats, progress, comparisons.
// Fixtures: fixtures/tool-output/rclone-1.60.1/ and rclone-1.75.2/
import { posix } from 'node:path';
import { z } from 'zod';
import { lazy } from '../../util/lazy.js';
import type { Entry } from '../../verify/compare.js';
import type { Changes, Progress, TransferStats, VerifyReport } from '../types.js';

const Stats = lazy(() => z.object({
  bytes: z.number(), totalBytes: z.number().optional(), speed: z.number().optional(), eta: z.number().nullable().optional(),
  checks: z.number().optional(), transfers: z.number(), totalTransfers: z.number().optional(), deletes: z.number().optional(), errors: z.number().optional(),
}));
const LogLine = lazy(() => z.object({
  level: z.string(), msg: z.string(), object: z.string().optional(), skipped: z.string().optional(), stats: Stats().optional(),
}));
export type LogLine = z.infer<ReturnType<typeof LogLine>>;

// bisync ≥ 1.66 colours its messages even into a pipe and a JSON log.
const ANSI = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The JSON lines of rclone's log; other lines (1.60's final "Failed to …") are kept as plain messages. */
export function logLines(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of stripAnsi(stderr).split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('{')) {
      try {
        const parsed = LogLine().safeParse(JSON.parse(line));
        if (parsed.success) {
          out.push({ ...parsed.data, msg: stripAnsi(parsed.data.msg) });
          continue;
        }
      } catch {
        // not JSON after all
      }
    }
    // 1.60: "2026/11/25 00:00:00 Failed to …"; ≥ 1.69 adds the level: "… NOTICE: Failed to …".
    out.push({ level: 'error', msg: line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').replace(/^(NOTICE|ERROR|CRITICAL|INFO|DEBUG)\s*:\s*/, '') });
  }
  return out;
}

/** A dry run's planned actions: "Skipped copy/move/delete as --dry-run is set". */
export function changesFromDryRun(stderr: string): Pick<Changes, 'transfer' | 'delete' | 'conflictCopies'> {
  const lines = logLines(stderr);
  const paths = (kinds: string[]): string[] => [...new Set(lines.filter((l) => l.skipped && kinds.includes(l.skipped) && l.object).map((l) => l.object as string))];
  // bisync ≥ 1.66 renames both copies of a conflict ("Skipped rename"): that is a change to make too.
  const copies = conflictsOf(stderr).flatMap((c) => c.renamed.map((r) => r.path));
  return { transfer: paths(['copy', 'move', 'rename']), delete: paths(['delete']), ...(copies.length ? { conflictCopies: copies } : {}) };
}

const SizeDoc = lazy(() => z.object({ count: z.number(), bytes: z.number() }));
/** `rclone size --json`; an absent destination counts as empty (its classify lets exit 3 through). */
export function sizeCount(stdout: string): number {
  const text = stdout.trim();
  return text ? SizeDoc().parse(JSON.parse(text)).count : 0;
}

const ListDoc = lazy(() => z.array(z.object({ Path: z.string(), IsDir: z.boolean().optional() })));
/**
 * `rclone lsjson -R --files-only`: the paths, in rclone's own encoding (a local name's newline is
 * "␊"), the same as its dry run names them. An absent destination lists nothing.
 */
export function listedPaths(stdout: string): string[] {
  const text = stdout.trim();
  return text ? ListDoc().parse(JSON.parse(text)).filter((e) => !e.IsDir).map((e) => e.Path) : [];
}

export function lastStats(stderr: string): z.infer<ReturnType<typeof Stats>> | undefined {
  return logLines(stderr).filter((l) => l.stats).at(-1)?.stats;
}

export function parseStats(stderr: string): TransferStats {
  const s = lastStats(stderr);
  return { files: s?.transfers ?? 0, bytes: s?.bytes ?? 0 };
}

function rate(bytesPerSecond: number): string {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = bytesPerSecond;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)}${units[i]}`;
}

export function parseProgress(line: string): Progress | undefined {
  if (!line.startsWith('{') || !line.includes('"stats"')) return undefined;
  const s = lastStats(line);
  if (!s) return undefined;
  const eta = typeof s.eta === 'number' ? `${Math.floor(s.eta / 3600)}:${String(Math.floor((s.eta % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s.eta % 60)).padStart(2, '0')}` : undefined;
  return {
    bytes: s.bytes,
    ...(s.totalBytes ? { percent: Math.floor((s.bytes / s.totalBytes) * 100) } : {}),
    ...(s.speed !== undefined ? { rate: rate(s.speed) } : {}),
    ...(eta ? { eta } : {}),
    files: s.transfers,
    ...(s.checks !== undefined ? { checks: s.checks } : {}),
  };
}

/**
 * `rclone check --download`'s count of the bytes it read: it reads the two copies of a same-size file in
 * step (up to their first difference) and counts both, so half of it was read on each side.
 */
export function downloadRead(stderr: string): { local: number; remote: number } | undefined {
  const bytes = lastStats(stderr)?.bytes;
  return bytes === undefined ? undefined : { local: bytes / 2, remote: bytes / 2 };
}

/**
 * `rclone check --combined -`, local as source: "+" only here (missing there), "-" only there, "*" differs.
 * Where rclone had no hash to compare ("No common hash found", or "N hashes could not be checked": an
 * S3 ETag that is not an MD5 and no md5chksum metadata), its "=" means equal sizes only: those files
 * are unproven. rclone does not name the unhashed ones, so when only some were, all "=" files are.
 */
export function parseCombined(stdout: string, stderr = ''): VerifyReport {
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  let checked = 0;
  for (const line of stdout.split('\n')) {
    const m = /^([=+\-*!]) (.+)$/.exec(line);
    if (!m) continue;
    const [, mark, path] = m as unknown as [string, string, string];
    if (mark !== '-') checked++;
    if (mark === '+') missing.push(path);
    else if (mark === '-') extra.push(path);
    else if (mark === '*' || mark === '!') changed.push(path);
  }
  const report = { checked, missing: missing.sort(), extra: extra.sort(), changed: changed.sort() };
  const equal = stdout.split('\n').filter((l) => l.startsWith('= ')).map((l) => l.slice(2)).sort();
  const unhashed = Number(/(\d+) hashes could not be checked/.exec(stderr)?.[1] ?? 0);
  const noCommon = /No common hash found/i.test(stderr);
  if (!equal.length || (!unhashed && !noCommon)) return report;
  const why = noCommon
    ? 'the remote offers no hash in common with local files (labsync check --full downloads to compare)'
    : `rclone could not check the hashes of ${unhashed} of ${equal.length} matching files (the store's ETags are not MD5s, and rclone wrote no MD5 beside them)`;
  return { ...report, unproven: equal, unprovenReason: why };
}

/** A file bisync found changed on both sides: the copies it kept, and which side won (a policy's choice). */
export interface Conflict {
  readonly path: string;
  /** Renamed copies, relative to the pair's roots, with the side each came from. */
  readonly renamed: readonly { readonly side: 'path1' | 'path2'; readonly path: string }[];
  /** The side whose copy keeps the file's own name; absent when both were renamed (keep-both). */
  readonly winner?: 'path1' | 'path2';
}

/**
 * bisync's conflict lines: "New or changed in both paths - NAME", then per side "Renaming PathN copy -
 * …/NAME..pathN" (1.60) or "…/NAME.conflictN" (≥ 1.66), or "Not renaming PathN copy, as it was
 * determined the winner - …/NAME" (a --conflict-resolve policy). Those paths carry each side's root,
 * so only the renamed copy's base name is kept, beside NAME.
 */
export function conflictsOf(stderr: string): Conflict[] {
  const out: { path: string; renamed: { side: 'path1' | 'path2'; path: string }[]; winner?: 'path1' | 'path2' }[] = [];
  for (const { msg } of logLines(stderr)) {
    const both = /New or changed in both paths\s+-\s+(.+)$/.exec(msg)?.[1];
    if (both) {
      out.push({ path: both.trim(), renamed: [] });
      continue;
    }
    const current = out.at(-1);
    if (!current) continue;
    const renamed = /(Path[12])\s+Renaming Path[12] copy\s+-\s+(.+)$/.exec(msg);
    if (renamed) {
      const dir = posix.dirname(current.path);
      const name = posix.basename((renamed[2] as string).trim());
      current.renamed.push({ side: (renamed[1] as string).toLowerCase() as 'path1' | 'path2', path: dir === '.' ? name : `${dir}/${name}` });
      continue;
    }
    const winner = /Not renaming (Path[12]) copy, as it was determined the winner/.exec(msg)?.[1];
    if (winner) current.winner = winner.toLowerCase() as 'path1' | 'path2';
  }
  return out;
}

/** The files changed on both sides. */
export function conflicts(stderr: string): string[] {
  return conflictsOf(stderr).map((c) => c.path);
}

export function parseVersion(stdout: string): string | undefined {
  return /rclone v?(\S+)/.exec(stdout)?.[1];
}

const Lsjson = lazy(() => z.array(z.object({
  Path: z.string(), Size: z.number(), ModTime: z.string().optional(), IsDir: z.boolean().optional(),
  Hashes: z.record(z.string(), z.string()).optional(),
})));

/**
 * `rclone lsjson -R --files-only`: one JSON array. `serverTime`: ModTime is the upload time (S3 with
 * --use-server-modtime), not the source's, so it is left out. An MD5 rclone could not learn is "".
 */
export function parseLsjson(stdout: string, serverTime: boolean): Entry[] {
  const text = stdout.trim();
  if (!text) return [];
  return Lsjson().parse(JSON.parse(text)).filter((i) => !i.IsDir).map((i) => {
    // --use-server-modtime: the time the store took the object, not the file's.
    const time = i.ModTime ? Date.parse(i.ModTime) : NaN;
    const md5 = i.Hashes?.md5;
    const when = Number.isNaN(time) ? {} : serverTime ? { uploadedMs: time } : { mtimeMs: time };
    return { path: i.Path, size: i.Size, ...when, ...(md5 ? { md5 } : {}) };
  });
}
