// The coreutils md5sum/sha256sum list format, byte for byte (coreutils 9.1: a name holding "\",
// newline or carriage return is escaped and its line starts with "\").
import { createHash } from 'node:crypto';
import type { Algo } from './hash-file.js';

export function escapeName(name: string): { escaped: string; marked: boolean } {
  const marked = /[\\\n\r]/.test(name);
  return { escaped: marked ? name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : name, marked };
}

export function sumsLine(hex: string, name: string): string {
  const { escaped, marked } = escapeName(name);
  return `${marked ? '\\' : ''}${hex}  ${escaped}`;
}

/**
 * The sha256 of the sums list of `paths` (one sumsLine and a newline each, as a receipt's sumsDigest),
 * hashed as it is made rather than built whole; undefined if a file has no sha256.
 */
export function sumsDigestOf(paths: readonly string[], shaAt: (i: number) => string | undefined): string | undefined {
  const h = createHash('sha256');
  let text = '';
  for (let i = 0; i < paths.length; i++) {
    const sha = shaAt(i);
    if (!sha) return undefined;
    text += `${sumsLine(sha, paths[i] as string)}\n`;
    if (text.length > 1 << 20) {
      h.update(text);
      text = '';
    }
  }
  return h.update(text).digest('hex');
}

/** A name as `sha256sum -c` prints it in its OK/FAILED lines: escaped (and marked) only when it holds a newline. */
export function reportName(name: string): string {
  return name.includes('\n') ? `\\${escapeName(name).escaped}` : name;
}

export interface SumsEntry { readonly hex: string; readonly name: string; readonly algo: Algo; readonly line: number }

/** Undoes escapeName; undefined for an escape coreutils would refuse (only \\, \n and \r exist). */
function unescape(text: string): string | undefined {
  if (text.replace(/\\[\\nr]/g, '').includes('\\')) return undefined;
  return text.replace(/\\([\\nr])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

// "SHA256 (NAME) = HEX", as `sha256sum --tag` and BSD's sha256/md5 print; NAME runs to the last ")".
const TAGGED = /^(SHA256|MD5) ?\((.*)\)[ \t]*=[ \t]*([0-9a-fA-F]+)$/s;
// "HEX  NAME" or "HEX *NAME" (a type indicator after the blank), or "HEX NAME" (BSD's reversed form).
const PLAIN = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})[ \t](.*)$/s;
const LENGTH: Record<string, number> = { SHA256: 64, MD5: 32 };

/**
 * Parses a list as coreutils 9 `sha256sum -c` / `md5sum -c` do: comment ("#…") and blank lines are
 * skipped, a CR before the newline is dropped (lists written on Windows), leading blanks are allowed,
 * and the tagged form is read too. Lines that fit no form are reported, not ignored. As coreutils does,
 * the first line decides between the two-character and the one-space form, and the list keeps to it:
 * after "HEX NAME", the line "HEX  b" names " b" (a name with a leading space is never misread).
 */
export function parseSums(text: string): { entries: SumsEntry[]; bad: number[] } {
  const entries: SumsEntry[] = [];
  const bad: number[] = [];
  let reversed: boolean | undefined;
  text.split('\n').forEach((raw, i) => {
    if (raw.startsWith('#')) return;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    let rest = line.replace(/^[ \t]+/, '');
    const marked = rest.startsWith('\\');
    if (marked) rest = rest.slice(1);
    let hex: string | undefined;
    let name: string | undefined;
    const tagged = TAGGED.exec(rest);
    if (tagged) {
      if ((tagged[3] as string).length === LENGTH[tagged[1] as string]) [hex, name] = [tagged[3], tagged[2]];
    } else {
      const plain = PLAIN.exec(rest);
      const after = plain?.[2] ?? '';
      const indicator = after.length > 1 && (after[0] === ' ' || after[0] === '*');
      if (plain && indicator && reversed !== true) [reversed, hex, name] = [false, plain[1], after.slice(1)];
      else if (plain && (indicator || reversed !== false)) [reversed, hex, name] = [true, plain[1], after];
    }
    const unescaped = name !== undefined && marked ? unescape(name) : name;
    if (!hex || !unescaped) return void bad.push(i + 1);
    entries.push({ hex: hex.toLowerCase(), name: unescaped, algo: hex.length === 32 ? 'md5' : 'sha256', line: i + 1 });
  });
  return { entries, bad };
}
