// Pure: rsync's output → what changed, stats, progress. Fixtures: fixtures/tool-output/rsync-3.5.0/
import type { Changes, Progress, TransferStats, VerifyReport } from '../types.js';

/** rsync prints unprintable bytes in names as \#ooo (octal). */
export function unescapeName(name: string): string {
  if (!name.includes('\\#')) return name;
  const bytes: number[] = [];
  const raw = Buffer.from(name, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b === 0x5c && raw[i + 1] === 0x23 && /^[0-7]{3}$/.test(raw.subarray(i + 2, i + 5).toString())) {
      bytes.push(parseInt(raw.subarray(i + 2, i + 5).toString(), 8));
      i += 4;
    } else bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface ItemizedEntry {
  /** '<' sent, '>' received, 'c' created locally, 'h' hard link, '.' unchanged, '*' deleted. */
  readonly update: string;
  /** 'f' file, 'd' folder, 'L' symlink, 'D' device, 'S' special; '' for deletions. */
  readonly type: string;
  readonly isNew: boolean;
  readonly path: string;
}

const ITEM = /^([<>ch.])([fdLDS])(.{9}) (.+)$/;
const DELETING = /^\*deleting +(.+)$/;

export function parseItemized(stdout: string): ItemizedEntry[] {
  const entries: ItemizedEntry[] = [];
  for (const line of stdout.split('\n')) {
    const del = DELETING.exec(line);
    if (del) {
      const path = unescapeName(del[1] as string);
      entries.push({ update: '*', type: path.endsWith('/') ? 'd' : 'f', isNew: false, path: path.replace(/\/$/, '') });
      continue;
    }
    const m = ITEM.exec(line);
    if (!m) continue;
    const [, update, type, attrs, rest] = m as unknown as [string, string, string, string, string];
    // Symlinks and hard links print "name -> target" / "name => target".
    const name = type === 'L' || update === 'h' ? rest.replace(/ [-=]> .*$/, '') : rest;
    entries.push({ update, type, isNew: attrs === '+++++++++', path: unescapeName(name).replace(/\/$/, '') });
  }
  return entries;
}

const isFile = (e: ItemizedEntry): boolean => e.type !== 'd';

/**
 * Regular files whose data rsync moved in a run with --itemize-changes ('<' sent, '>' received):
 * rsync checks each such file, once written, against the sender's whole-file checksum and re-sends
 * it on a mismatch (rsync(1), --checksum-choice), so an exit 0 means each one arrived intact. A file
 * skipped by the quick check, or one only touched up (times, modes: '.'), is not among them.
 */
export function writtenFromItemized(stdout: string): string[] {
  // Read in place, not through parseItemized: a first push prints a line (and a progress line) per
  // file, and only the sent regular files matter here. Same lines as ITEM matches: '<f' or '>f', nine
  // attribute letters, a space, a name without a carriage return (a progress line run into it).
  const out: string[] = [];
  for (let at = 0; at < stdout.length; ) {
    let end = stdout.indexOf('\n', at);
    if (end < 0) end = stdout.length;
    const c = stdout.charCodeAt(at);
    if ((c === 0x3c || c === 0x3e) && stdout.charCodeAt(at + 1) === 0x66 && stdout.charCodeAt(at + 11) === 0x20 && end > at + 12) {
      const line = stdout.slice(at, end);
      if (!line.includes('\r')) out.push(unescapeName(line.slice(12)).replace(/\/$/, ''));
    }
    at = end + 1;
  }
  return out;
}

export function changesFromItemized(stdout: string): Changes {
  const entries = parseItemized(stdout);
  const files = entries.filter(isFile);
  const deleted = files.filter((e) => e.update === '*');
  const present = files.filter((e) => e.update !== '*');
  const moved = present.filter((e) => e.update !== '.');
  return {
    transfer: moved.map((e) => e.path),
    replace: moved.filter((e) => !e.isNew).map((e) => e.path),
    delete: deleted.map((e) => e.path),
    sourceFiles: present.length,
    destFiles: present.filter((e) => !e.isNew).length + deleted.length,
  };
}

export function verifyFromItemized(stdout: string): VerifyReport {
  const files = parseItemized(stdout).filter(isFile);
  const present = files.filter((e) => e.update !== '*');
  return {
    checked: present.length,
    missing: present.filter((e) => e.isNew).map((e) => e.path),
    extra: files.filter((e) => e.update === '*').map((e) => e.path),
    changed: present.filter((e) => !e.isNew && e.update !== '.').map((e) => e.path),
  };
}

const num = (s: string): number => Number(s.replace(/,/g, ''));

export function parseStats(stdout: string): TransferStats {
  const files = /Number of regular files transferred: ([\d,]+)/.exec(stdout);
  const bytes = /Total transferred file size: ([\d,]+) bytes/.exec(stdout);
  return { files: files ? num(files[1] as string) : 0, bytes: bytes ? num(bytes[1] as string) : 0 };
}

// "      1,234,567  45%   10.50MB/s    0:00:03 (xfr#3, to-chk=5/10)"; ir-chk while the file list still grows.
const PROGRESS = /^\s*([\d,]+)\s+(\d+)%\s+(\S+\/s)\s+(\d+:\d{2}:\d{2})(?:\s+\(xfr#(\d+)(?:, (?:ir|to)-chk=(\d+)\/(\d+))?)?/;

/** The last line asked and its answer: each progress line is asked twice (the stall watch, then the event). */
let lastLine: string | undefined;
let lastProgress: Progress | undefined;

export function parseProgress(line: string): Progress | undefined {
  if (line === lastLine) return lastProgress;
  lastLine = line;
  lastProgress = progressOf(line);
  return lastProgress;
}

function progressOf(line: string): Progress | undefined {
  const m = PROGRESS.exec(line);
  if (!m) return undefined;
  return {
    bytes: num(m[1] as string),
    percent: Number(m[2]),
    rate: m[3] as string,
    eta: m[4] as string,
    ...(m[5] ? { files: Number(m[5]) } : {}),
    // Files looked at so far: a long run of unchanged files still moves this (the stall watchdog reads it).
    ...(m[6] && m[7] ? { checks: Number(m[7]) - Number(m[6]) } : {}),
  };
}

export function parseVersion(stdout: string): string | undefined {
  return /rsync\s+version\s+v?(\S+)/.exec(stdout)?.[1];
}
