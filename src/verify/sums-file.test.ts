import { describe, expect, it } from 'vitest';
import { parseSums, reportName, sumsLine } from './sums-file.js';

const H = 'a'.repeat(64);
const M = 'b'.repeat(32);
const names = (text: string): (string | number)[] => {
  const { entries, bad } = parseSums(text);
  return [...entries.map((e) => e.name), ...bad];
};

describe('coreutils sums format', () => {
  it('writes plain names plainly and escapes backslash, newline and CR with a marked line', () => {
    expect(sumsLine(H, 'dir/file name.csv')).toBe(`${H}  dir/file name.csv`);
    expect(sumsLine(H, 'back\\slash')).toBe(`\\${H}  back\\\\slash`);
    expect(sumsLine(H, 'new\nline\rx')).toBe(`\\${H}  new\\nline\\rx`);
  });

  it('reports a name as sha256sum -c does: escaped only when it holds a newline', () => {
    expect(reportName('back\\slash\r')).toBe('back\\slash\r');
    expect(reportName('new\nline\\')).toBe('\\new\\nline\\\\');
  });

  it('reads back what it writes, binary markers, md5 lengths, and reports bad lines', () => {
    const text = `${sumsLine(H, 'new\nline')}\n${M} *bin.dat\nnot a sums line\n`;
    const { entries, bad } = parseSums(text);
    expect(entries).toEqual([
      { hex: H, name: 'new\nline', algo: 'sha256', line: 1 },
      { hex: M, name: 'bin.dat', algo: 'md5', line: 2 },
    ]);
    expect(bad).toEqual([3]);
  });

  it('reads what sha256sum -c reads: comments, blank lines, CRLF, leading blanks, a tab, the tagged form', () => {
    const text = `# made on Windows\r\n\r\n  ${H}  a\r\n${H}\t*b\n\nSHA256 (c (1).txt) = ${H.toUpperCase()}\nMD5(d)= ${M}\n\\SHA256 (e\\nf) = ${H}\n`;
    const { entries, bad } = parseSums(text);
    expect(bad).toEqual([]);
    expect(entries.map((e) => [e.name, e.algo, e.line])).toEqual([
      ['a', 'sha256', 3], ['b', 'sha256', 4], ['c (1).txt', 'sha256', 6], ['d', 'md5', 7], ['e\nf', 'sha256', 8],
    ]);
    expect(entries[2]?.hex).toBe(H);
  });

  it('refuses what sha256sum -c refuses, and reads odd lines as it does', () => {
    expect(names(`SHA256 (a) = ${M}\n`)).toEqual([1]); // tag and length disagree
    expect(names(`sha256 (a) = ${H}\n`)).toEqual([1]); // the tag is upper case
    expect(names(`\\${H}  bad\\tescape\n`)).toEqual([1]);
    expect(names(`\\${H}  ends in a backslash\\\n`)).toEqual([1]);
    expect(names(`${H}a  too long\n`)).toEqual([1]);
    // The first line decides between "HEX  NAME" and BSD's "HEX NAME"; the list keeps to it, as coreutils does.
    expect(names(`${H} a\n${H} b\n`)).toEqual(['a', 'b']);
    expect(names(`${H}  a\n${H} b\n`)).toEqual(['a', 2]);
    expect(names(`${H} a\n${H}  b\n`)).toEqual(['a', ' b']);
    expect(names(`${H}  \n`)).toEqual([' ']);
  });
});
