// A host whose find cannot read the whole folder (a folder the ssh user may not enter, an I/O error)
// prints what it could and exits 1. A review found that listing taken as the whole folder wherever it
// was read from a kept session or followed by hashing (the exit code was lost): a pull left out the
// unreadable files and reported the pair in sync. Now the listing says so and labsync uses rsync's own.
// The tests run as root, who may enter any folder, so this host's find is a wrapper that leaves one
// folder out of a whole-tree listing and fails as find does; the real sshd and rsync do the rest.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { hostWithout } from './harness/bare-host.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();
const ssh = inject('sshHost');


describe.skipIf(!ssh)('a host whose find fails partway: its listing is not taken as the whole folder', () => {
  let host: SshHost;
  beforeAll(async () => {
    const bare = hostWithout(tempDir('labsync-find-fails-'), ['find']);
    for (const tool of ['head', 'grep', 'mv', 'rm', 'rmdir', 'ln', 'touch']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim(), join(bare.bin, tool));
    const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
    const wrapper = join(bare.bin, 'find');
    writeFileSync(wrapper, [
      '#!/bin/sh',
      // A whole-tree listing in a folder holding `locked`: its records left out, as find would after EACCES.
      `if [ "$1" = . ] && [ -d locked ]; then ${real} "$@" | grep -zv ' locked/'; echo "find: './locked': Permission denied" >&2; exit 1; fi`,
      `exec ${real} "$@"`,
    ].join('\n'));
    chmodSync(wrapper, 0o755);
    host = await startSshd(join(bare.dir, 'sshd'), [`SetEnv PATH=${bare.bin}`]);
  });
  afterAll(() => stopSshd(host));

  it('a pull gets the files find could not list (rsync\'s own listing), never "in sync" without them', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab));
    lab.write(lab.outside('gpu/raw/a'), 'A').write(lab.outside('gpu/raw/locked/x'), 'X');
    for (let run = 0; run < 2; run++) {
      const r = await lab.cli(['data', 'pull', '--json']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(lab.tree(lab.path('raw'))).toEqual({ a: 'A', 'locked/x': 'X' });
      rmSync(lab.path('raw/locked'), { recursive: true });
    }
  });

  it('a mirror push deletes what the host has in a folder its find could not list (rsync\'s own listing)', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    for (const f of ['a', 'b', 'c', 'd']) lab.write(lab.path('raw', f), f);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    lab.write(lab.outside('gpu/raw/locked/stray'), 'only there');
    const r = await lab.cli(['data', 'push']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // A mirror: the host's stray file is deleted, as rsync --delete would (the guard judged 1 of 5).
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'a', b: 'b', c: 'c', d: 'd' });
  });
});
