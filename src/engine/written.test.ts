import { describe, expect, it } from 'vitest';
import { provedBy, writtenIn } from './written.js';
import { unkeptChangeTimes } from '../verify/mount-types.js';
import type { Key } from './sides.js';

describe('what the transfer proves (review 48: a whole-second ctime keeps its key through a rewrite within that second)', () => {
  const listed = 1_733_500_000_400; // the source listing's clock: 0.4 s into a second
  const key = (ctimeMs: number): Key => [10, 1_733_400_000_000, ctimeMs, 7];

  it('takes a key as proof once no later change could keep it: a fine ctime older than a tick, a whole second older than the racy window', () => {
    const keys = new Map<string, Key>([
      ['fine-old', key(listed - 200.123)],
      ['fine-just-now', key(listed - 10.5)],
      ['second-this', key(1_733_500_000_000)], // changed in the listing's own second on a whole-second file system
      ['second-last', key(1_733_499_999_000)], // the second before: 1.4 s, past the window
      ['unknown', key(Number.NaN)],
    ]);
    const got = writtenIn(keys, 'push', [...keys.keys()], listed);
    expect([...(got?.keys.keys() ?? [])]).toEqual(['fine-old', 'second-last']);
    expect(got?.from).toBe('local');
  });

  it('is nothing when no sent file proves anything (each copy is read back)', () => {
    expect(writtenIn(new Map([['a', key(listed - 5)]]), 'pull', ['a'], listed)).toBeUndefined();
  });
});

describe('no transfer proof where change times prove nothing (review 50)', () => {
  it('keeps what a source on ext4 proves, and nothing on FUSE or FAT (a rewrite there can keep the whole key)', () => {
    const written = { from: 'local' as const, keys: new Map([['a', [1, 2, 3, 4] as const]]) };
    const on = (type: string): string => `${type}\t1\t0:1\t/\t/data`;
    // A source side as listLocal makes it from its mounts.
    const side = (mounts: string): { unkept?: string } => {
      const unkept = unkeptChangeTimes(mounts);
      return unkept ? { unkept } : {};
    };
    expect(provedBy(written, side(on('ext4')))).toBe(written);
    expect(provedBy(written, {})).toBe(written);
    expect(provedBy(written, side(on('fuse.sshfs')))).toBeUndefined();
    expect(provedBy(written, side(`${on('ext4')}\n${on('vfat')}`))).toBeUndefined();
  });
});
