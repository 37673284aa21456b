import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bisyncWorkdir } from '../adapters/rclone/argv.js';
import { tempDirs } from '../temp-dirs.fixture.js';
import type { ResolvedPair } from '../types.js';
import { lastSynced, listedFiles, sessionName } from './bisync-listings.js';

const tempDir = tempDirs();
const listing = (n: number): string => `# bisync listing v1 from 2026-12-06\n${Array.from({ length: n }, (_, i) => `-        2 - - 2026-12-06T09:00:34.459646959+0000 "f${i}"`).join('\n')}\n`;

function workdir(): { pair: ResolvedPair; put: (name: string, files: number, at: string) => void } {
  const pair = { name: 'shared', root: tempDir('labsync-bisync-'), local: '/home/u/new proj', remote: { type: 'local', path: '/nas/x' } } as unknown as ResolvedPair;
  const dir = bisyncWorkdir(pair);
  mkdirSync(dir, { recursive: true });
  return {
    pair,
    put: (name, files, at) => {
      writeFileSync(join(dir, name), listing(files));
      utimesSync(join(dir, name), new Date(at), new Date(at));
    },
  };
}

describe('what a bisync pair held after its last sync', () => {
  it('counts the listing\'s files, not its header', () => {
    expect(listedFiles(listing(3))).toBe(3);
    expect(listedFiles('# bisync listing v1\n')).toBe(0);
  });

  it('the newest complete session of the workdir: a folder moved or a remote edited leaves an older one beside it', () => {
    const { pair, put } = workdir();
    expect(lastSynced(pair)).toBeUndefined();
    put('data_old_proj..remote_x.path1.lst', 1000, '2026-01-01');
    put('data_old_proj..remote_x.path2.lst', 1000, '2026-01-01');
    put('home_u_new_proj..remote_x.path1.lst', 10, '2026-06-01');
    put('home_u_new_proj..remote_x.path2.lst', 12, '2026-06-01');
    expect(lastSynced(pair)).toBe(12);
    // Half a session (path2 gone) is none rclone can sync from.
    put('zzz_newest..remote_x.path1.lst', 5, '2026-07-01');
    expect(lastSynced(pair)).toBe(12);
    // Dry-run and error leftovers never count.
    put('zzz_newest..remote_x.path2.lst-dry', 5, '2026-07-01');
    expect(lastSynced(pair)).toBe(12);
  });

  it('rclone\'s own session of the pair\'s two paths when it is there, even beside a newer one of other paths', () => {
    // As rclone 1.60 and 1.75 name it (seen on this machine): /tmp/s17/bi/x y:z and /tmp/s17/bi/b.
    expect(sessionName('/tmp/s17/bi/x y:z', '/tmp/s17/bi/b')).toBe('tmp_s17_bi_x_y_z..tmp_s17_bi_b');
    expect(sessionName('/lab/notes/', 'box:')).toBe('lab_notes..box_');
    const { pair, put } = workdir();
    put('home_u_new_proj..nas_x.path1.lst', 4, '2026-01-01');
    put('home_u_new_proj..nas_x.path2.lst', 4, '2026-01-01');
    put('other..nas_x.path1.lst', 900, '2026-06-01');
    put('other..nas_x.path2.lst', 900, '2026-06-01');
    expect(lastSynced(pair)).toBe(4);
  });

  it('listings set aside as .lst-old count only where rclone recovers from them (>= 1.66, --recover)', () => {
    const { pair, put } = workdir();
    put('a..b.path1.lst-old', 7, '2026-01-01');
    put('a..b.path2.lst-old', 7, '2026-01-01');
    expect(lastSynced(pair)).toBeUndefined();
    expect(lastSynced(pair, true)).toBe(7);
  });
});
