// The coreutils md5sum/sha256sum list format, byte for byte (coreutils 9.1: a name holding "\",
// newline or carriage return is escaped and its line starts with "\").
import type { Algo } from './hash-file.js';

export function escapeName(name: string): { escaped: string; marked: boolean } {
  const marked = /[\\\n\r]/.test(name);
  return { escaped: marked ? name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : name, marked };
}

export function sumsLine(hex: string, name: string): string {
  const { escaped, marked } = escapeName(name);
  return `${marked ? '\\' : ''}${hex}  ${escaped}`;
}

export interface SumsEntry { readonly hex: string; readonly name: string; readonly algo: Algo; readonly line: number }

function unescape(text: string): string {
  return text.replace(/\\(\\|n|r)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

/** Parses a list; lines that are not "HEX  NAME" (or "HEX *NAME") are reported, not ignored. */
export function parseSums(text: string): { entries: SumsEntry[]; bad: number[] } {
  const entries: SumsEntry[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw === '' && i === text.split('\n').length - 1) return;
    const marked = raw.startsWith('\\');
    const m = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64}) [ *](.+)$/.exec(marked ? raw.slice(1) : raw);
    if (!m) return void bad.push(i + 1);
    const hex = (m[1] as string).toLowerCase();
    entries.push({ hex, name: marked ? unescape(m[2] as string) : (m[2] as string), algo: hex.length === 32 ? 'md5' : 'sha256', line: i + 1 });
  });
  return { entries, bad };
}
