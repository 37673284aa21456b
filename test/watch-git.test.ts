// watch on a git (code) pair: a save only dirties the tree, which a push refuses; a commit moves a
// branch's ref, and that is what starts a run (review 49: watch never pushed a code pair).
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { until } from './harness/wait.js';
import { finishedRuns, logEvents, startWatch, stopWatch, watchResults } from './harness/watch.js';

const git = async (lab: Lab, cwd: string, ...args: string[]): Promise<string> => String((await execa('git', args, { cwd, env: lab.env })).stdout);

/** A clone of a bare origin (one commit on main) as a code pair's folder, everything committed. */
async function repoLab(): Promise<Lab> {
  const lab = new Lab();
  const origin = lab.outside('origin.git');
  await execa('git', ['init', '-q', '--bare', '--initial-branch=main', origin], { env: lab.env });
  await execa('git', ['clone', '-q', origin, lab.path()], { env: lab.env, reject: false });
  writeFileSync(lab.path('.gitignore'), '.labsync/\nlabsync.yaml\n');
  lab.manifest('version: 1\ndefaults:\n  retries: 0\ncode:\n  - name: repo\n    local: .\n    remote: "../origin.git"\n    branch: main\n    mode: push\n');
  await git(lab, lab.path(), 'add', '.gitignore');
  await git(lab, lab.path(), 'commit', '-q', '-m', 'first');
  await git(lab, lab.path(), 'push', '-q', 'origin', 'HEAD:main');
  return lab;
}

describe.each(['dirs', 'parcel'])('watch on a code pair (LABSYNC_WATCHER=%s)', (watcher) => {
  it('starts no run for a save, and pushes each commit once its branch moves', async () => {
    const lab = await repoLab();
    const { run } = await startWatch(lab, '0.3', { env: { LABSYNC_WATCHER: watcher }, ready: 'watching repo' });
    writeFileSync(lab.path('train.py'), 'print(1)\n');
    // Well past the debounce: a run for the save would have started (and been refused) by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(finishedRuns(lab)).toBe(0);
    await git(lab, lab.path(), 'add', 'train.py');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'train');
    await until('the push of the commit', () => finishedRuns(lab) === 1, 30_000);
    await stopWatch(lab, run);
    expect(watchResults(lab)).toMatchObject([{ status: 'ok' }]);
    expect(logEvents(lab).filter((e) => e.kind === 'pair_step' && e.step?.includes('changed path')).map((e) => e.step)).toEqual([expect.stringMatching(/^\d+ changed paths?: .*\.git\/(refs\/heads\/main|packed-refs|HEAD)\b/)]);
    expect(await git(lab, lab.outside('origin.git'), 'log', '--format=%s', 'main')).toBe('train\nfirst');
  });
});

describe('watch on a code pair in a git worktree (its .git is a file naming the folder)', () => {
  it('watches the branch refs where the worktree keeps them (the common folder) and pushes its commit (review 50: it watched the .git file, deaf)', async () => {
    const lab = await repoLab();
    await git(lab, lab.path(), 'worktree', 'add', '-q', '-b', 'feature', lab.outside('wt'));
    lab.manifest('version: 1\ndefaults:\n  retries: 0\ncode:\n  - name: repo\n    local: ../wt\n    remote: "../origin.git"\n    branch: feature\n    mode: push\n');
    const { run } = await startWatch(lab, '0.3', { ready: 'watching repo' });
    writeFileSync(lab.outside('wt/eval.py'), 'print(2)\n');
    await git(lab, lab.outside('wt'), 'add', 'eval.py');
    await git(lab, lab.outside('wt'), 'commit', '-q', '-m', 'eval');
    await until('the push of the commit', () => finishedRuns(lab) === 1, 30_000);
    await stopWatch(lab, run);
    expect(watchResults(lab)).toMatchObject([{ status: 'ok' }]);
    expect(await git(lab, lab.outside('origin.git'), 'log', '--format=%s', 'feature')).toBe('eval\nfirst');
  });
});
