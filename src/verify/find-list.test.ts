import { describe, expect, it } from 'vitest';
import { countLinks, excludedPath, findArgv, LinkCounter, numberAt, parseFindListing } from './find-list.js';

const entry = (size: number, mtime: string, ctime: string, ino: number, path: string): string => `${size} ${mtime} ${ctime} ${ino} ${path}\0`;

describe('find listing', () => {
  it('reads times as node computes Stats.mtimeMs from (sec, nsec)', () => {
    const at = (text: string): number => numberAt(text, 0, text.length);
    expect(at('1795568190.8141988130')).toBe(1795568190 * 1000 + 814198813 / 1e6);
    expect(at('1700000000.0000000000')).toBe(1700000000000);
    expect(at('12.5')).toBe(12500); // a short fraction is in tenths, not nanoseconds
    expect(at('4096')).toBe(4096);
    expect(at('18446744073709551615')).toBe(Number('18446744073709551615')); // past 2^53: node's own rounding
  });

  it('parses sizes, times, inodes and awkward names into byte order, excludes applied', () => {
    const out = Buffer.from([
      entry(3, '1700000000.5000000000', '1700000001.0000000000', 11, 'b/new\nline'),
      entry(5, '1700000000.0000000000', '1700000000.0000000000', 12, 'a/x'),
      entry(1, '1700000000.0000000000', '1700000000.0000000000', 13, 'a-b'),
      entry(2, '1700000000.0000000000', '1700000000.0000000000', 14, 'with space.tmp'),
      entry(7, '1700000000.0000000000', '1700000000.0000000000', 15, 'build/out/o.bin'),
      entry(9, '1700000000.0000000000', '1700000000.0000000000', 16, 'ünï ✓'),
    ].join(''));
    const { paths, keys } = parseFindListing(out, ['*.tmp', 'build/']);
    expect(paths).toEqual(['a-b', 'a/x', 'b/new\nline', 'ünï ✓']);
    expect([...keys.subarray(8, 12)]).toEqual([3, 1700000000500, 1700000001000, 11]);
    expect(parseFindListing(Buffer.alloc(0), [])).toEqual({ paths: [], keys: new Float64Array(0) });
  });

  it('answers top-level-only excludes by the first segment exactly as the general matcher does', () => {
    const top = ['/.labsync-backup/', '/.lock', '/.rsync-partial/', '/st?te/', '/*.tmp'];
    const fast = excludedPath(top) as (p: string) => boolean;
    // A pattern that matches nothing here but is not top-level-only puts every path through the general walk.
    const general = excludedPath([...top, 'zz/**/never']) as (p: string) => boolean;
    const paths = ['.lock', 'a/.lock', '.lock/x', '.labsync-backup', '.labsync-backup/f', '.labsync-backup/d/f', '.labsync-backupx/f',
      'state/f', 'stbte/d/f', 'state', 'a.tmp', 'a.tmp/f', 'd/a.tmp', '.rsync-partial/x', 'x/.rsync-partial/y', 'a/b/c', 'a', '.labsync-backup/f'];
    const verdicts = paths.map(fast);
    expect(verdicts).toEqual(paths.map(general));
    expect(paths.filter((_, i) => verdicts[i])).toEqual(['.lock', '.lock/x', '.labsync-backup/f', '.labsync-backup/d/f', 'state/f', 'stbte/d/f', 'a.tmp', 'a.tmp/f', '.rsync-partial/x', '.labsync-backup/f']);
  });

  it('prunes folders excluded by a plain name, and leaves wildcards to labsync’s own matcher', () => {
    expect(findArgv([])).toEqual(['find', '.', '-ignore_readdir_race', '-type', 'f', '-printf', '%s %T@ %C@ %i %P\\0']);
    expect(findArgv(['.git/', '/.labsync-backup/', '*.tmp', 'data/*.csv', 'node_modules'])).toEqual([
      'find', '.', '-ignore_readdir_race', '-type', 'd', '(', '-name', '.git', '-o', '-path', './.labsync-backup', '-o', '-name', 'node_modules', ')', '-prune', '-o',
      '-type', 'f', '-printf', '%s %T@ %C@ %i %P\\0',
    ]);
  });

  it('asked to, marks each symlink in the same walk: counted without parsing, skipped by the parser', () => {
    expect(findArgv([], { links: true })).toEqual(['find', '.', '-ignore_readdir_race', '-type', 'f', '-printf', '%s %T@ %C@ %i %P\\0', '-o', '-type', 'l', '-printf', 'l\\0']);
    const file = entry(1, '1700000000.0000000000', '1700000000.0000000000', 13, 'l');
    const out = Buffer.from(`l\0${file}l\0${entry(2, '1.0', '1.0', 14, 'x')}l\0`);
    expect(countLinks(out)).toBe(3);
    expect(countLinks(Buffer.from(file))).toBe(0); // a file named "l" is not a link
    expect(countLinks(Buffer.alloc(0))).toBe(0);
    expect(parseFindListing(out, []).paths).toEqual(['l', 'x']);
    // The same count when the listing arrives in pieces cut anywhere, a marker cut between two included.
    for (const size of [1, 2, 3, 5]) {
      const c = new LinkCounter();
      for (let at = 0; at < out.length; at += size) c.push(out.subarray(at, at + size));
      expect(c.count, `pieces of ${size}`).toBe(3);
    }
  });
});
