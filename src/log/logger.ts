// NDJSON log: every run event, redacted, to --log-file or .labsync/logs/labsync-YYYY-MM-DD.log.
// pino's line format ({"level":30,"time":…,"pid":…,…,"msg":…}), written by hand: one synchronous
// append per event is all labsync ever asked of pino, and loading pino cost every run ~12 ms of CPU.
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Emit } from '../engine/events.js';
import { redactDeep, type Redactor } from '../exec/redact.js';
import { makeFolderSync } from '../state/own-folder.js';
import { logsDir } from '../state/paths.js';

export function defaultLogFile(root: string, date = new Date()): string {
  return join(logsDir(root), `labsync-${date.toISOString().slice(0, 10)}.log`);
}

/** pino's numbers, so existing readers of the log (jq filters on .level) keep working. */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * run_end without each pair's path lists: its pair_end line just above holds them (a first push of 50k
 * files logged its 50k sent paths twice, 835 KB a line; a check against an emptied destination, the
 * whole tree twice). Each list becomes its length (`transfer: 50000`); every other field stays as it is.
 */
function withoutFileLists(event: Extract<Parameters<Emit>[0], { kind: 'run_end' }>): object {
  const counted = (o: object | null | undefined, keys: readonly string[]): object | null | undefined => {
    if (!o) return o;
    const out: Record<string, unknown> = { ...o };
    for (const k of keys) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).length;
    return out;
  };
  return { ...event, result: { ...event.result, pairs: event.result.pairs.map((pair) => {
    const p = counted(pair, ['left']) as Record<string, unknown>;
    if (pair.changes) p.changes = counted(pair.changes, ['transfer', 'delete', 'replace', 'uncommitted']);
    if (pair.verify) p.verify = counted(pair.verify, ['missing', 'extra', 'changed']);
    return p;
  }) } };
}

/** A log file past this is moved to `<file>.1` (the one before that goes): a cron line's fixed log had only grown (review 42). */
const ROTATE_BYTES = 16 * 1024 * 1024;
/** Dated daily logs older than this are removed, when a day's first run opens its file. */
const KEEP_DAYS = 30;

/** Rotates `file` when large, and on a day's first run drops the dated logs beside it older than KEEP_DAYS. Best effort. */
function tidyLogs(file: string, now = Date.now()): void {
  try {
    // A regular file only, and as named: a symlinked log or /dev/stdout is the user's to rotate (review 46:
    // the link itself had been renamed, the target left to grow).
    const st = lstatSync(file);
    if (st.isFile() && st.size > ROTATE_BYTES) renameSync(file, `${file}.1`);
    return; // it exists: not a day's first run
  } catch {
    // not there yet (or cannot be read): a first run of the day, or of a new log file
  }
  // Only labsync's own dated logs in its own folder: a --log-file elsewhere is someone else's folder.
  if (!/^labsync-\d{4}-\d{2}-\d{2}\.log$/.test(basename(file)) || !/[\\/]\.labsync[\\/]logs$/.test(dirname(file))) return;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return; // a log folder that cannot be read costs nothing more than its size
  }
  for (const name of names) {
    const day = /^labsync-(\d{4}-\d{2}-\d{2})\.log(\.1)?$/.exec(name)?.[1];
    if (!day || now - Date.parse(`${day}T00:00:00Z`) <= (KEEP_DAYS + 1) * 86_400_000) continue;
    try {
      unlinkSync(join(dirname(file), name));
    } catch {
      // gone meanwhile (another run tidied), or not ours to remove: the rest still goes
    }
  }
}

/**
 * `file`: a name, or how to name it now (the dated default, which a watch running for days must follow
 * past midnight). A long-lived sink (a watch) looks again at most every `recheckMs`: its file renamed to
 * `.1` or removed by another run (a cron run's rotation or tidy), or past the rotation size, it opens
 * the file as named now (review 49: a watch had written on into `.1`, then into a removed file).
 */
export function logSink(file: string | (() => string), redact: Redactor, verbose: boolean, recheckMs = 60_000): { emit: Emit; flush: () => void } {
  const nameNow = (): string => (typeof file === 'string' ? file : file());
  let name = nameNow();
  makeFolderSync(dirname(name));
  tidyLogs(name);
  // Opened now, so a log that cannot be written is reported before the run (context.ts), as before.
  let fd = openSync(name, 'a');
  let checked = Date.now();
  const current = (): void => {
    if (Date.now() - checked < recheckMs) return;
    checked = Date.now();
    try {
      const want = nameNow();
      const open = fstatSync(fd);
      const there = statSync(want, { throwIfNoEntry: false });
      // Size only counts for a regular file: a symlinked log or /dev/stdout is never rotated here (tidyLogs), so never reopened for it.
      if (want === name && there && there.ino === open.ino && there.dev === open.dev && (open.size <= ROTATE_BYTES || !open.isFile() || lstatSync(want).isSymbolicLink())) return;
      if (want !== name) makeFolderSync(dirname(want));
      tidyLogs(want);
      const next = openSync(want, 'a');
      closeSync(fd);
      fd = next;
      name = want;
    } catch {
      // The file as named cannot be opened now: lines go on where they went.
    }
  };
  const min = verbose ? LEVELS.debug : LEVELS.info;
  const write = (level: number, fields: object, msg: string): void => {
    if (level < min) return;
    current();
    // Appends of one line each (O_APPEND): two labsync runs logging to one file interleave whole lines.
    try {
      writeSync(fd, `${JSON.stringify({ level, time: Date.now(), pid: process.pid, ...fields, msg })}\n`);
    } catch {
      // A full disk mid-run loses log lines, not the run (the file opened, so the folder was writable).
    }
  };
  return {
    emit: (event) => {
      const level = event.kind === 'pair_progress' ? LEVELS.debug : event.kind === 'warning' ? LEVELS.warn : LEVELS.info;
      // A progress line comes per file a transfer sends (10k on a first push of 10k files): not redacted to be dropped.
      if (level < min) return;
      const clean = redactDeep(event.kind === 'run_end' ? withoutFileLists(event) : event, redact) as object;
      if (event.kind === 'pair_end' && event.result.error) write(LEVELS.error, clean, `${event.result.name}: ${event.result.status}`);
      else write(level, clean, event.kind);
    },
    // Every line is written when emitted; the descriptor stays open for a watch's later runs.
    flush: () => undefined,
  };
}

