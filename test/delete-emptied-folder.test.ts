// A mirror push after files were removed but their folder kept (`rm data/old/*`), or a folder that now
// holds only excluded files: the planned deletions happen. rsync's --delete-missing-args deletes a named
// folder only where the source lacks it, so such a folder must be named file by file (a review found
// the whole folder named, nothing deleted, and drift, exit 4, on every run). Real rsync, a local folder
// remote and the test sshd.
import { mkdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, type Lab } from './harness/lab.js';
import { mirrorLab, MIRROR_KINDS } from './harness/mirror-lab.js';

interface Pair { status: string; error: string | null; changes?: { delete: string[] }; verify: { status: string } | null }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/** Pushes a tree, empties two of its folders (one keeps only an excluded file), pushes again. */
async function emptiedThenPushed(lab: Lab, dest: () => Record<string, string>): Promise<void> {
  // Enough kept files that three deletions stay under the guard's default max_delete (50%).
  for (const k of ['k1', 'k2', 'k3']) lab.write(lab.path('raw', k), k);
  lab.write(lab.path('raw/keep'), 'keep').write(lab.path('raw/old/x'), 'x').write(lab.path('raw/old/deep/y'), 'y').write(lab.path('raw/logs/run.txt'), 'run');
  const first = await lab.cli(['data', 'push', '--json']);
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  expect(dest()).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', keep: 'keep', 'old/x': 'x', 'old/deep/y': 'y', 'logs/run.txt': 'run' });

  rmSync(lab.path('raw/old'), { recursive: true });
  mkdirSync(lab.path('raw/old/deep'), { recursive: true });
  rmSync(lab.path('raw/logs/run.txt'));
  lab.write(lab.path('raw/logs/debug.tmp'), 'excluded');
  const r = await lab.cli(['data', 'push', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { delete: ['logs/run.txt', 'old/deep/y', 'old/x'] }, verify: { status: 'in_sync' } });
  expect(dest()).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', keep: 'keep' });
  // And the next run finds nothing to do.
  const again = await lab.cli(['data', 'push', '--json']);
  expect(again.exitCode, again.stdout + again.stderr).toBe(0);
  expect(pairOf(again).changes?.delete).toEqual([]);
}

/** The same from the other end: the host's folders are emptied, and a mirror pull deletes their local copies. */
async function emptiedThenPulled(lab: Lab, host: (...p: string[]) => string): Promise<void> {
  for (const k of ['k1', 'k2', 'k3']) lab.write(host(k), k);
  lab.write(host('keep'), 'keep').write(host('old/x'), 'x').write(host('old/deep/y'), 'y').write(host('logs/run.txt'), 'run');
  const first = await lab.cli(['data', 'pull', '--json']);
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  expect(lab.tree(lab.path('raw'))).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', keep: 'keep', 'old/x': 'x', 'old/deep/y': 'y', 'logs/run.txt': 'run' });

  rmSync(host('old'), { recursive: true });
  mkdirSync(host('old/deep'), { recursive: true });
  rmSync(host('logs/run.txt'));
  lab.write(host('logs/debug.tmp'), 'excluded');
  lab.write(lab.path('raw/logs/local.tmp'), 'excluded here too');
  const r = await lab.cli(['data', 'pull', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { delete: ['logs/run.txt', 'old/deep/y', 'old/x'] }, verify: { status: 'in_sync' } });
  // An excluded file is never deleted by a mirror (rsync's rule without --delete-excluded).
  expect(lab.tree(lab.path('raw'))).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', keep: 'keep', 'logs/local.tmp': 'excluded here too' });
  const again = await lab.cli(['data', 'pull', '--json']);
  expect(again.exitCode, again.stdout + again.stderr).toBe(0);
  expect(pairOf(again).changes?.delete).toEqual([]);
}

/** A folder gone from the source is deleted whole at the destination, but never its excluded files (rsync's rule without --delete-excluded). */
async function goneWithExcludedKept(lab: Lab, dest: (...p: string[]) => string): Promise<void> {
  for (const k of ['k1', 'k2', 'k3', 'k4']) lab.write(lab.path('raw', k), k);
  lab.write(lab.path('raw/old/a.bin'), 'a');
  expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
  lab.write(dest('old/events.tmp'), 'excluded there').write(dest('old/sub/p.tmp'), 'excluded too');
  rmSync(lab.path('raw/old'), { recursive: true });
  const r = await lab.cli(['data', 'push', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { delete: ['old/a.bin'] }, verify: { status: 'in_sync' } });
  expect(lab.tree(dest())).toEqual({ k1: 'k1', k2: 'k2', k3: 'k3', k4: 'k4', 'old/events.tmp': 'excluded there', 'old/sub/p.tmp': 'excluded too' });
}

describe('a mirror pull deletes the local files of a folder the host keeps empty', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    await emptiedThenPulled(lab, far);
  });
});

describe('a mirror push deletes the files of a folder the source keeps empty', () => {
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    await emptiedThenPushed(lab, () => lab.tree(far()));
  });
});

describe('a mirror push deletes a folder the source lacks, but not the excluded files in it', () => {
  // A review found the host's rsync receiver without the excludes here: rsync sends its filter rules to
  // a remote receiver only when it deletes (--delete), and --delete-missing-args alone did not.
  for (const [name, kind, can] of MIRROR_KINDS) it.skipIf(!can)(name, async () => {
    const { lab, far } = mirrorLab(kind);
    await goneWithExcludedKept(lab, far);
  });
});
