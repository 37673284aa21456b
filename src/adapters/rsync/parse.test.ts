import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changesFromItemized, parseItemized, parseProgress, parseStats, parseVersion, unescapeName, verifyFromItemized, writtenFromItemized } from './parse.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/rsync-3.5.0/${name}`, import.meta.url), 'utf8');

describe('rsync parse (recorded rsync 3.5.0 output)', () => {
  it('reads a mirror dry run: transfers, deletions, and both sides\' file counts', () => {
    const c = changesFromItemized(fixture('preview-mirror.txt'));
    expect(c.transfer).toEqual(['-leading-dash', 'back\\slash', 'link', 'new\nline', 'quote\'d"name', 'ünïcödé.bin']);
    expect(c.delete).toEqual(['old/gone']);
    expect(c.replace).toEqual([]);
    // Files already at the destination ("+++++++++" marks a new one) are replacements.
    expect(changesFromItemized(fixture('verify-checksum.txt')).replace).toEqual(['with space.txt', 'sub/same']);
    expect(c.sourceFiles).toBe(8);
    // "with space.txt" and "sub/same" exist on both sides, plus the one to delete.
    expect(c.destFiles).toBe(3);
  });

  it('names the files a --files-from push wrote (and so checked), not the one its quick check skipped', () => {
    // printf 'new.txt\0with space.txt\0sub/same\0touched\0' | rsync -a --files-from=- --from0 --itemize-changes
    // --stats --info=progress2 over ssh; sub/same was already there with the same size and mtime.
    const out = fixture('transfer-files-from.txt');
    expect(writtenFromItemized(out)).toEqual(['new.txt', 'touched', 'with space.txt']);
    expect(parseStats(out)).toEqual({ files: 3, bytes: 9 });
  });

  it('reads the written files in place as the full itemized parse does (escaped names, links, deletions, a progress line run in)', () => {
    const full = (out: string): string[] => parseItemized(out).filter((e) => e.type === 'f' && (e.update === '<' || e.update === '>')).map((e) => e.path);
    for (const name of ['transfer-files-from.txt', 'transfer.txt', 'preview-mirror.txt', 'verify-checksum.txt']) {
      expect(writtenFromItemized(fixture(name)), name).toEqual(full(fixture(name)));
    }
    const odd = [
      '<f+++++++++ new\\#012line', '>f.st...... got', 'cL+++++++++ link -> target', 'hf+++++++++ hard => other', '.f          same',
      '*deleting   gone', '<f+++++++++ cut\r      3  30%    0.00kB/s    0:00:00', '<f+++++++++ ', 'cd+++++++++ dir/', '<f+++++++++ ünï',
    ].join('\n');
    expect(writtenFromItemized(odd)).toEqual(['new\nline', 'got', 'ünï']);
    expect(writtenFromItemized(odd)).toEqual(full(odd));
  });

  it('reads a checksum comparison into missing, extra and changed', () => {
    expect(verifyFromItemized(fixture('verify-checksum.txt'))).toEqual({
      checked: 8,
      missing: ['link'],
      extra: ['extra'],
      changed: ['with space.txt', 'sub/same'],
    });
  });

  it('reads stats and progress', () => {
    const out = fixture('transfer.txt');
    // 5 regular files: the symlink is not one, and rsync's quick check skipped the same-size, same-second "with space.txt".
    expect(parseStats(out)).toEqual({ files: 5, bytes: 8 });
    expect(parseProgress('      1,234,567  45%   10.50MB/s    0:00:03 (xfr#3, to-chk=5/10)')).toEqual({
      bytes: 1_234_567, percent: 45, rate: '10.50MB/s', eta: '0:00:03', files: 3, checks: 5,
    });
    // Unchanged files being checked move the count while bytes stand still (recorded: 10,000 files, 2 changed).
    const checks = ['4   0%    0.00kB/s    0:00:00 (xfr#1, ir-chk=1500/1522)', '4   0%    0.00kB/s    0:00:00 (xfr#1, ir-chk=1000/2022)'].map((l) => parseProgress(`              ${l}`)?.checks);
    expect(checks).toEqual([22, 1022]);
    expect(parseProgress('sending incremental file list')).toBeUndefined();
  });

  it('unescapes rsync\'s \\#ooo octal escapes and reads the version', () => {
    expect(unescapeName('a\\#012b')).toBe('a\nb');
    expect(unescapeName('plain\\name')).toBe('plain\\name');
    expect(parseVersion('rsync  version 3.5.0  protocol version 32\n')).toBe('3.5.0');
  });
});
