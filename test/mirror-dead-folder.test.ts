// A mirror pull whose manifest names a pair folder on a file system that stops answering (an NFS mount
// whose server is gone: harness/dead-fuse.ts). The check of which pairs' folders lie inside the mirror's
// through a link resolved every folder in labsync's own process, so the pull blocked in the kernel for
// good, Ctrl-C too (review 63). Now each folder is resolved in a process of its own, under a bound.
import { existsSync, symlinkSync } from 'node:fs';
import { expect, it } from 'vitest';
import { canMountFuse, deadFolder } from './harness/dead-fuse.js';
import { execa } from 'execa';
import { BIN, Lab } from './harness/lab.js';

/**
 * A test of a mirror pull `raw` (nas/raw holds a.csv; raw holds old.csv) beside a pair `d1` whose folder
 * is a link into a dead mount, and the pull-only pair `copy` of the same remote; skipped where no FUSE
 * file system can be mounted (not root, or no /dev/fuse in the container). The mount is detached after it.
 */
function besideDead(name: string, fn: (lab: Lab) => Promise<void>): void {
  it.skipIf(!canMountFuse)(name, async () => {
    const lab = new Lab();
    lab.manifest('version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    mode: pull\n    delete: true\n  - name: copy\n    local: copy\n    remote: nas:raw\n    mode: pull\n  - name: d1\n    local: d1\n    remote: nas:d1\n');
    lab.write(lab.outside('nas/raw/a.csv'), 'a\n');
    lab.write(lab.path('raw/old.csv'), 'old\n');
    const dead = await deadFolder(lab.outside('dead'));
    try {
      symlinkSync(lab.outside('dead/d1'), lab.path('d1'));
      await fn(lab);
    } finally {
      await dead.revive();
    }
  }, 120_000);
}

besideDead('a mirror pull beside a pair whose folder does not answer is refused within its bound, saying which folder, and deletes nothing; a pull of a pair that is no mirror runs as before', async (lab) => {
  const r = await lab.cli(['data', 'pull', 'raw']);
  expect(r.exitCode, r.stderr).toBe(3);
  expect(`${r.stdout}${r.stderr}`).toMatch(/did not answer within 5s .*that of data\.d1 \(.*\/d1\)/);
  expect(existsSync(lab.path('raw/old.csv'))).toBe(true);
  expect(existsSync(lab.path('raw/a.csv'))).toBe(false);
  const pulled = await lab.cli(['data', 'pull', 'copy']);
  expect(pulled.exitCode, pulled.stderr).toBe(0);
  expect(lab.tree(lab.path('copy'))).toEqual({ 'a.csv': 'a\n' });
});

besideDead('a Ctrl-C to the whole terminal group while the mirror pull waits for the folders to answer ends it, nothing deleted (review 64: the realpath children, killed by it too, had sent the dead folder to be resolved in labsync\'s own process, where it hung)', async (lab) => {
  // Its own group, as a terminal's foreground job is: the Ctrl-C goes to every process in it.
  const run = execa(process.execPath, [BIN, 'data', 'pull', 'raw'], { cwd: lab.path(), env: lab.env, extendEnv: false, reject: false, detached: true, stdin: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(-(run.pid as number), 'SIGINT');
  const done = await run;
  expect(done.exitCode, String(done.stderr)).toBe(130);
  expect(existsSync(lab.path('raw/old.csv'))).toBe(true);
});
