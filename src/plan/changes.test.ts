import { describe, expect, it } from 'vitest';
import { changesOf, deletionTargets, needsContentCompare, nulList, underSentFile } from './changes.js';
import { computePlan, listingOf } from './compute.js';

const e = (path: string, size = 1, mtimeMs = 1000, sha256?: string) => ({ path, size, mtimeMs, ...(sha256 ? { sha256 } : {}) });

describe('the plan as Changes and as a tool\'s lists', () => {
  const plan = computePlan(
    listingOf([e('new'), e('same'), e('bigger', 2), e('flipped', 1, 1000, 'aa'), e('kept/x')]),
    listingOf([e('same'), e('bigger'), e('flipped', 1, 1000, 'bb'), e('kept/old'), e('gone/a/b'), e('gone/c'), e('top')]),
    { mirror: true },
  );
  it('maps send and replace to transfer, replace and delete as the reporters and the guard read them', () => {
    expect(changesOf(plan)).toEqual({
      transfer: ['kept/x', 'new', 'bigger', 'flipped'], replace: ['bigger', 'flipped'], delete: ['gone/a/b', 'gone/c', 'kept/old', 'top'],
      sourceFiles: 5, destFiles: 7,
    });
    expect(needsContentCompare(plan)).toBe(true);
  });
  it('names a folder the source lacks once, instead of the files under it', () => {
    expect(deletionTargets(plan, ['new', 'same', 'kept/x'])).toEqual(['gone', 'kept/old', 'top']);
    expect(nulList(['a', 'b c'])).toBe('a\0b c\0');
  });
  it('never names a file the source now has as a folder: the transfer put the folder in its place (--delete would empty it)', () => {
    expect(deletionTargets(plan, ['new', 'same', 'kept/x', 'top/now-a-folder'])).toEqual(['gone', 'kept/old']);
  });
  it('never names the files of a folder the plan sends a file in place of: the transfer made way for it (rsync --force)', () => {
    const swapped = computePlan(listingOf([e('k'), e('x', 2)]), listingOf([e('k'), e('x/f1'), e('x/sub/f2')]), { mirror: true });
    expect(changesOf(swapped)).toMatchObject({ transfer: ['x'], delete: ['x/f1', 'x/sub/f2'] });
    expect(deletionTargets(swapped, ['k', 'x'])).toEqual([]);
    expect(underSentFile(swapped)('x/sub/f2')).toBe(true);
    expect(underSentFile(swapped)('xy/f')).toBe(false);
  });
});
