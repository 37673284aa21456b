import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRows, type Row } from './cache-file.js';
import { spliceRows } from './cache-splice.js';
import { sortBytewise } from './walk.js';

const SHA = (n: number): string => n.toString(16).padStart(64, '0');
const row = (path: string, n: number): Row => [path, n, 1_600_000_000_000.125 + n, 1_600_000_000_000.5, 1000 + n, SHA(n), '', '', 0];
const keyOf = (file: string): number[] => {
  const s = statSync(file);
  return [s.size, s.mtimeMs, s.ctimeMs, s.ino];
};

describe('spliceRows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Names that escape (tab, backslash, newline) and sort past U+D7FF, where byte order and UTF-16 order differ.
  const odd = ['a\ttab', 'c\\back', 'n\nl', 'é', '😀/x', '\uffff', 'long/' + 'n'.repeat(3000)];
  const names = sortBytewise([...Array.from({ length: 3000 }, (_, i) => `d${i % 31}/f${i}.bin`), ...odd]);

  /** The file spliceRows makes is byte for byte the one writeRows makes of the same rows. */
  async function same(base: readonly string[], put: ReadonlyMap<string, Row>): Promise<void> {
    const file = join(dir, 'c.hashes');
    const want = join(dir, 'want.hashes');
    const rows = new Map(base.map((p, i) => [p, row(p, i + 1)]));
    await writeRows(file, '/root', sortBytewise([...rows.keys()]).map((p) => rows.get(p) as Row));
    for (const [p, r] of put) rows.set(p, r);
    await writeRows(want, '/root', sortBytewise([...rows.keys()]).map((p) => rows.get(p) as Row));
    const key = await spliceRows(file, '/root', keyOf(file), put);
    expect(key).toEqual(keyOf(file));
    expect(readFileSync(file).equals(readFileSync(want))).toBe(true);
  }

  it('puts rows in at their places (first, last, between, in place of their own line), as a whole rewrite would', async () => {
    const without = names.filter((p, i) => i % 7 !== 3 && p !== names[0] && p !== names[names.length - 1]);
    const put = new Map<string, Row>();
    for (const p of [names[0] as string, names[names.length - 1] as string, ...names.filter((_, i) => i % 700 === 3), ...odd]) put.set(p, row(p, 90_000 + put.size));
    await same(without, put);
    // Into a cache with no rows at all, and one path before everything.
    await same([], new Map([['x', row('x', 1)]]));
    await same(['b', 'c'], new Map([['a', row('a', 9)]]));
  });

  it('matches a whole rewrite for any few rows put into any tree', async () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let trial = 0; trial < 40; trial++) {
      const base = names.filter(() => rand(4) > 0);
      const put = new Map<string, Row>();
      for (let i = rand(6) + 1; i > 0; i--) {
        const p = rand(3) ? (names[rand(names.length)] as string) : `new/${rand(1000)}`;
        put.set(p, row(p, 50_000 + trial * 10 + i));
      }
      await same(base, put);
    }
  });

  it('writes nothing for a file that changed since its key was taken, another tree\'s cache, or a damaged probed line', async () => {
    const file = join(dir, 'd.hashes');
    await writeRows(file, '/root', names.map((p, i) => row(p, i + 1)));
    const key = keyOf(file);
    const put = new Map([['d3/new', row('d3/new', 1)]]);
    expect(await spliceRows(file, '/other', key, put)).toBeUndefined();
    expect(await spliceRows(file, '/root', [key[0] as number, 1, 2, 3], put)).toBeUndefined();
    expect(await spliceRows(join(dir, 'none.hashes'), '/root', key, put)).toBeUndefined();
    expect(keyOf(file)).toEqual(key);
    // Lines without a tab where the search lands: refused, not guessed around.
    const header = readFileSync(file, 'utf8').split('\n')[0];
    writeFileSync(file, `${header}\n${'garbage\n'.repeat(500)}`);
    expect(await spliceRows(file, '/root', keyOf(file), put)).toBeUndefined();
  });
});
