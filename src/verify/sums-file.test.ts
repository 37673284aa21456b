import { describe, expect, it } from 'vitest';
import { parseSums, sumsLine } from './sums-file.js';

const H = 'a'.repeat(64);
describe('coreutils sums format', () => {
  it('writes plain names plainly and escapes backslash, newline and CR with a marked line', () => {
    expect(sumsLine(H, 'dir/file name.csv')).toBe(`${H}  dir/file name.csv`);
    expect(sumsLine(H, 'back\\slash')).toBe(`\\${H}  back\\\\slash`);
    expect(sumsLine(H, 'new\nline\rx')).toBe(`\\${H}  new\\nline\\rx`);
  });
  it('reads back what it writes, binary markers, md5 lengths, and reports bad lines', () => {
    const text = `${sumsLine(H, 'new\nline')}\n${'b'.repeat(32)} *bin.dat\nnot a sums line\n`;
    const { entries, bad } = parseSums(text);
    expect(entries).toEqual([
      { hex: H, name: 'new\nline', algo: 'sha256', line: 1 },
      { hex: 'b'.repeat(32), name: 'bin.dat', algo: 'md5', line: 2 },
    ]);
    expect(bad).toEqual([3]);
  });
});
