// The on-disk form of a hash cache: one line per file, sorted by path in byte order, read in chunks of
// CHUNK bytes and written in chunks, so a 1M-file tree never becomes one giant string or one JSON parse.
// A reader that meets anything it does not understand throws; the caller then trusts none of the file.
//   labsync-hashes <TAB> 3 <TAB> root
//   path <TAB> size <TAB> mtimeMs <TAB> ctimeMs <TAB> ino <TAB> sha256 <TAB> md5 <TAB> etag <TAB> etagPartSize
import { closeSync, openSync, readSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { makeFolder } from '../state/own-folder.js';
import { writeFileAtomic } from '../state/atomic.js';

/** One row per file: [path, size, mtimeMs, ctimeMs, ino, sha256, md5, etag, etagPartSize] (the part size the ETag was cut with: etag.ts partSizeFor). */
export type Row = [string, number, number, number, number, string, string, string, number];

export const MAGIC = 'labsync-hashes';
export const FORMAT = 3;
/** Bytes read (and about the bytes written) per system call. */
export const CHUNK = 1 << 20;

const ESCAPES = /[\\\t\n\r]/;
/** Tabs and newlines would end a field or a line: escaped as in C, and so is the backslash. */
export const escapeField = (s: string): string =>
  ESCAPES.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;

function unescapeField(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 't') return '\t';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    throw new Error(`unknown escape \\${c}`);
  });
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;

function num(s: string, what: string): number {
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new Error(`${what} is not a number: ${JSON.stringify(s.slice(0, 40))}`);
  return n;
}

export const headerLine = (root: string): string => `${MAGIC}\t${FORMAT}\t${escapeField(root)}\n`;

export const rowLine = (r: Row): string => `${escapeField(r[0])}\t${r[1]}\t${r[2]}\t${r[3]}\t${r[4]}\t${r[5]}\t${r[6]}\t${escapeField(r[7])}\t${r[8]}\n`;

/** One line (without its newline) as a row; throws for anything malformed. */
export function parseRow(line: string): Row {
  const f = line.split('\t');
  if (f.length !== 9) throw new Error(`${f.length} fields where 9 belong`);
  const [path, size, mtime, ctime, ino, sha256, md5, etag, part] = f as [string, string, string, string, string, string, string, string, string];
  if (!path) throw new Error('an empty path');
  if (sha256 && !HEX64.test(sha256)) throw new Error('a sha256 that is not 64 hex digits');
  if (md5 && !HEX32.test(md5)) throw new Error('an md5 that is not 32 hex digits');
  return [unescapeField(path), num(size, 'size'), num(mtime, 'mtime'), num(ctime, 'ctime'), num(ino, 'inode'), sha256, md5, unescapeField(etag), num(part, 'part size')];
}

/**
 * Takes a file's bytes in pieces of any size (a piece may end inside a line, or inside a character) and
 * hands each complete row on as soon as its line is complete: memory is one piece plus one line.
 */
export class RowReader {
  private carry: Buffer = Buffer.alloc(0);
  private line = 0;
  root: string | undefined;

  constructor(private readonly onRow: (row: Row) => void) {}

  push(piece: Buffer): void {
    const end = piece.lastIndexOf(10);
    if (end < 0) {
      this.carry = this.carry.length ? Buffer.concat([this.carry, piece]) : Buffer.from(piece);
      return;
    }
    const head = this.carry.length ? Buffer.concat([this.carry, piece.subarray(0, end)]) : piece.subarray(0, end);
    this.carry = Buffer.from(piece.subarray(end + 1));
    const text = head.toString('utf8');
    for (let from = 0; from <= text.length; ) {
      let nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
      this.take(text.slice(from, nl));
      from = nl + 1;
    }
  }

  /** The file ended: a last line without its newline means the file was cut short. */
  end(): void {
    if (this.carry.length) throw new Error(`line ${this.line + 1} is cut short`);
    if (this.root === undefined) throw new Error('no header');
  }

  private take(line: string): void {
    this.line += 1;
    try {
      if (this.root === undefined) {
        const [magic, format, root] = line.split('\t');
        if (magic !== MAGIC || root === undefined) throw new Error('not a labsync hash cache');
        if (format !== String(FORMAT)) throw new Error(`format ${format}, this labsync reads ${FORMAT}`);
        this.root = unescapeField(root);
        return;
      }
      this.onRow(parseRow(line));
    } catch (error) {
      throw new Error(`line ${this.line}: ${(error as Error).message}`);
    }
  }
}

export interface ReadStats { reads: number; bytes: number }

/**
 * Streams the rows of `file` to `onRow`, CHUNK bytes per read; returns the root its header names.
 * Throws ENOENT for no file, and an Error naming the line for a damaged one.
 */
export function readRows(file: string, onRow: (row: Row) => void, stats?: ReadStats, chunk = CHUNK): string {
  const reader = new RowReader(onRow);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunk);
    for (;;) {
      const n = readSync(fd, buf, 0, chunk, null);
      if (stats) {
        stats.reads += 1;
        stats.bytes += n;
      }
      if (n === 0) break;
      reader.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  reader.end();
  return reader.root as string;
}

/**
 * A temp file beside `file`, to write it whole: `commit` closes it and renames it over `file`, `discard`
 * closes and removes it; a failed rename removes it too, so no temp file is left either way.
 */
export async function tempFor(file: string): Promise<{ handle: FileHandle; commit: () => Promise<void>; discard: () => Promise<void> }> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o644);
  const discard = async (): Promise<void> => {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
  };
  const commit = async (): Promise<void> => {
    await handle.close();
    try {
      await rename(tmp, file);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
  };
  return { handle, commit, discard };
}

/** Writes the header and `rows` (in the order given) to `file` through a temp file and a rename; no fsync (a cache). */
export async function writeRows(file: string, root: string, rows: Iterable<Row>): Promise<void> {
  await makeFolder(dirname(file));
  const temp = await tempFor(file);
  const { handle } = temp;
  try {
    let text = headerLine(root);
    for (const r of rows) {
      text += rowLine(r);
      if (text.length >= CHUNK) {
        await handle.write(text);
        text = '';
      }
    }
    await handle.write(text);
  } catch (error) {
    await temp.discard();
    throw error;
  }
  await temp.commit();
}

/** Where a problem that costs speed, not correctness, is told (a pair's warnings, or stderr). */
export type Warn = (message: string) => void;

const warnedAbout = new Set<string>();

/**
 * Writes a cache file. The caches only save time, so one that cannot be written (a read-only checkout,
 * a full disk, a file where the folder should be) is a warning, never a failed scan: the answer already
 * computed stands, and the next scan reads the files again. Said once per cache folder and process.
 */
export async function writeCacheFile(path: string, data: string | (() => Promise<void>), warn: Warn | undefined): Promise<void> {
  try {
    await (typeof data === 'string' ? writeFileAtomic(path, data, { durable: false }) : data());
  } catch (error) {
    if (!warn || warnedAbout.has(dirname(path))) return;
    warnedAbout.add(dirname(path));
    warn(`could not save hashes under ${dirname(path)} (${(error as Error).message}); the next scan reads these files again`);
  }
}
