import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRows, type Row } from './cache-file.js';
import { lookupRows } from './cache-lookup.js';
import { sortBytewise } from './walk.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const SHA = (n: number): string => n.toString(16).padStart(64, '0');
const row = (path: string, n: number): Row => [path, n, 1_600_000_000_000.125 + n, 1_600_000_000_000.5, 1000 + n, SHA(n), '', '', 0];

describe('lookupRows', () => {
  // Enough rows that a search halves the file many times (~120 bytes a line: ~2.4 MB), with names
  // that escape (tab, backslash) and sort past U+D7FF.
  const names = sortBytewise([...Array.from({ length: 20_000 }, (_, i) => `d${i % 97}/f${i}.bin`), 'a\ttab', 'c\\back', 'é', '😀/x', 'long/' + 'n'.repeat(3000)]);
  const rows = names.map((p, i) => row(p, i + 1));
  const dir = tempDir('cl-');
  const file = join(dir, 'c.hashes');

  it('finds a few rows by searching, and many in one pass, each as written', async () => {
    await writeRows(file, '/root', rows);
    const few = [...new Set(['a\ttab', 'c\\back', 'é', '😀/x', names[0] as string, names[names.length - 1] as string, 'd5/f5.bin', 'long/' + 'n'.repeat(3000), 'not/there', 'd5/f5.bi', 'd5/f5.bin2'])];
    const got = lookupRows(file, '/root', few);
    expect([...got.keys()].sort()).toEqual(few.filter((p) => names.includes(p)).sort());
    for (const [p, r] of got) expect(r).toEqual(rows[names.indexOf(p)]);
    const many = names.filter((_, i) => i % 150 === 0).concat(['nope', 'd1/zzz']);
    const all = lookupRows(file, '/root', many);
    expect(all.size).toBe(many.length - 2);
    for (const [p, r] of all) expect(r).toEqual(rows[names.indexOf(p)]);
  });

  it('finds nothing in a missing file, another tree\'s file, or in place of a damaged row', async () => {
    expect(lookupRows(join(dir, 'none.hashes'), '/root', ['é']).size).toBe(0);
    await writeRows(file, '/root', rows);
    expect(lookupRows(file, '/other', ['é']).size).toBe(0);
    // A row cut short (no sha256): not trusted, though its path is there.
    const text = readFileSync(file, 'utf8').replace(`é\t${names.indexOf('é') + 1}\t`, 'é\tbroken\t');
    writeFileSync(file, text);
    expect(lookupRows(file, '/root', ['é', 'a\ttab']).has('é')).toBe(false);
    expect(lookupRows(file, '/root', ['é', 'a\ttab']).has('a\ttab')).toBe(true);
    // A file cut in the middle of a line: the rows before it are found, the cut one is not.
    writeFileSync(file, text.slice(0, text.length - 10));
    const last = names[names.length - 1] as string;
    expect(lookupRows(file, '/root', [last]).size).toBe(0);
    expect(lookupRows(file, '/root', [names[10] as string]).size).toBe(1);
  });
});
