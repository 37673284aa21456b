// watch on both of its watchers (Linux's per-folder inotify, and @parcel/watcher as on macOS and Windows):
// excludes judged by labsync, bursts debounced into one run, each run told which paths changed, and a
// folder it cannot watch reported.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { until } from './harness/wait.js';
import { finishedRuns, logEvents, startWatch, stopWatch as stop, watchResults } from './harness/watch.js';

/** A push pair raw → ../nas/raw whose before hook counts the runs in `runs.log`. */
function watchLab(extra = ''): Lab {
  const lab = new Lab();
  const runs = lab.outside('runs.log');
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    hooks:\n      before: ["sh", "-c", "echo run >> ${runs}"]\n${extra}`);
  lab.write(lab.path('raw/a.csv'), 'a\n');
  return lab;
}

/** Whether watch has warned `re` so far. */
const warned = (lab: Lab, re: RegExp): boolean => logEvents(lab).some((e) => e.kind === 'warning' && re.test(e.message ?? ''));

/** `name` written into the pair folder is pushed, every run begun has ended, and watch stops cleanly. */
async function pushedThenStopped(lab: Lab, run: ReturnType<Lab['spawn']>, name: string): Promise<void> {
  lab.write(lab.path(`raw/${name}`), `${name}\n`);
  const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
  await until(`${name} pushed`, () => existsSync(lab.outside(`nas/raw/${name}`)) && idle(), 30_000);
  await stop(lab, run);
}

const runCount = (lab: Lab): number => (existsSync(lab.outside('runs.log')) ? readFileSync(lab.outside('runs.log'), 'utf8').trim().split('\n').length : 0);
const changedSteps = (lab: Lab): string[] =>
  logEvents(lab).filter((e) => e.kind === 'pair_step' && e.step?.includes('changed path')).map((e) => e.step as string);

describe.each(['dirs', 'parcel'])('watch (LABSYNC_WATCHER=%s)', (watcher) => {
  const env = { LABSYNC_WATCHER: watcher };

  it('does not run for a change the pair excludes (even deep in an excluded folder), and names what did change', async () => {
    const lab = watchLab('    exclude: ["*.tmp", "cache/"]\n');
    // The folders exist first: a new folder is itself a change the pair sends, even if only excluded files go in it.
    mkdirSync(lab.path('raw/cache/deep'), { recursive: true });
    mkdirSync(lab.path('raw/sub'), { recursive: true });
    const { run } = await startWatch(lab, '0.3', { env });
    lab.write(lab.path('raw/scratch.tmp'), 'x').write(lab.path('raw/sub/more.tmp'), 'y').write(lab.path('raw/cache/deep/c.bin'), 'z');
    // Well past the debounce: a run for these would have started by now (not an assertion on time:
    // the counts below are what is checked).
    await new Promise((r) => setTimeout(r, 2000));
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('the push of new.csv', () => finishedRuns(lab) === 1, 30_000);
    await stop(lab, run);
    expect(runCount(lab)).toBe(1);
    expect(changedSteps(lab)).toEqual(['1 changed path: new.csv']);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n', 'new.csv': 'new\n' });
  });

  it('turns a burst of changes into one run that names every changed path', async () => {
    const lab = watchLab();
    // Into a folder that exists: files written into a brand-new folder may be named only as that folder.
    mkdirSync(lab.path('raw/burst'));
    const { run } = await startWatch(lab, '2', { env });
    for (let i = 0; i < 40; i++) lab.write(lab.path(`raw/burst/f${String(i).padStart(2, '0')}.csv`), `${i}\n`);
    lab.write(lab.path('raw/a.csv'), 'changed\n');
    await until('the push of the burst', () => finishedRuns(lab) === 1, 30_000);
    await stop(lab, run);
    expect(runCount(lab)).toBe(1);
    expect(changedSteps(lab)).toEqual(['41 changed paths: a.csv, burst/f00.csv, burst/f01.csv, burst/f02.csv, burst/f03.csv and 36 more']);
    expect(Object.keys(lab.tree(lab.outside('nas/raw')))).toHaveLength(41);
  });

  // Not for @parcel/watcher on Linux: its inotify backend never watches a folder made inside a brand-new
  // folder before it got to watch that one (seen here: the second change is never reported). That is
  // why Linux uses labsync's own per-folder watcher, which walks a new folder when it appears; elsewhere
  // parcel's backends (FSEvents, ReadDirectoryChangesW) watch the whole tree natively.
  it.skipIf(watcher === 'parcel')('sees a folder made while watching, and changes inside it after that', async () => {
    const lab = watchLab();
    const { run } = await startWatch(lab, '0.3', { env });
    lab.write(lab.path('raw/new/deeper/x.csv'), 'x\n');
    await until('the push of the new folder', () => existsSync(lab.outside('nas/raw/new/deeper/x.csv')) && finishedRuns(lab) === 1, 30_000);
    expect(changedSteps(lab)[0]).toMatch(/changed paths?: new\b/);
    lab.write(lab.path('raw/new/deeper/x.csv'), 'changed\n');
    await until('the second push', () => finishedRuns(lab) === 2, 30_000);
    await stop(lab, run);
    expect(changedSteps(lab)[1]).toBe('1 changed path: new/deeper/x.csv');
    expect(readFileSync(lab.outside('nas/raw/new/deeper/x.csv'), 'utf8')).toBe('changed\n');
  });

  it('warns when the watched folder is removed, watches it again once it is back and pushes it (review 49: it stayed deaf), and still stops cleanly', async () => {
    const lab = watchLab();
    const { run } = await startWatch(lab, '0.3', { env });
    rmSync(lab.path('raw'), { recursive: true });
    await until('the warning', () => logEvents(lab).some((e) => e.kind === 'warning'), 30_000);
    lab.write(lab.path('raw/back.csv'), 'back\n');
    await until('the folder watched again and pushed', () => existsSync(lab.outside('nas/raw/back.csv')) && finishedRuns(lab) === 1, 30_000);
    lab.write(lab.path('raw/later.csv'), 'later\n');
    await until('a change in it pushed', () => existsSync(lab.outside('nas/raw/later.csv')) && finishedRuns(lab) === 2, 30_000);
    await stop(lab, run);
    const warnings = logEvents(lab).filter((e) => e.kind === 'warning').map((e) => (e as { message?: string }).message);
    expect(warnings).toContainEqual(expect.stringMatching(/lab\/raw was removed: watching it again once it is back$/));
    expect(warnings).toContainEqual(expect.stringMatching(/lab\/raw is back: watching it again$/));
    // Still running when Ctrl-C came: with no folder left to watch it once left on its own, and a
    // Ctrl-C landing in that exit killed it by the signal (the flaky case).
    expect(warnings).toContainEqual(expect.stringMatching(/^stopping: /));
  });

  it('is not started again by its own output written into the pair (`labsync watch >> raw/watch.out 2>&1`: ten runs in ten seconds, review 49)', async () => {
    const lab = watchLab();
    const out = lab.path('raw/watch.out');
    const run = lab.spawn(['watch', '--debounce', '0.3', '--no-initial-push', '--log-file', lab.outside('watch.log')], { env, output: out });
    await until('watch to be ready', () => existsSync(out) && readFileSync(out, 'utf8').includes('watching raw'), 30_000);
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('the push of new.csv', () => finishedRuns(lab) === 1, 30_000);
    // Well past the debounce: a run started by the run's own output lines would have begun by now.
    await new Promise((r) => setTimeout(r, 2000));
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(0);
    expect(finishedRuns(lab)).toBe(1);
    expect(changedSteps(lab)).toEqual(['1 changed path: new.csv']);
    expect(readFileSync(out, 'utf8')).toContain("watch.out is this watch's own output: its changes start no run (a run still pushes it)");
    expect(lab.tree(lab.outside('nas/raw'))).toMatchObject({ 'new.csv': 'new\n' });
  });

  it('watches a pair folder that is a symlink (the link had been watched, and nothing seen, silently: review 49)', async () => {
    const lab = watchLab();
    renameSync(lab.path('raw'), lab.path('real-raw'));
    symlinkSync('real-raw', lab.path('raw'));
    const { run } = await startWatch(lab, '0.3', { env });
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('the push of new.csv', () => finishedRuns(lab) === 1, 30_000);
    await stop(lab, run);
    expect(changedSteps(lab)).toEqual(['1 changed path: new.csv']);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n', 'new.csv': 'new\n' });
  });

  /**
   * raw → run-1, watched; the link moved to a new run-2 (and run-1 removed, or kept); once watch says
   * `said`, a file written through the link is pushed, and watch is stopped with no run going.
   */
  const followsLink = async (removeOld: boolean, said: RegExp): Promise<Lab> => {
    const lab = watchLab();
    renameSync(lab.path('raw'), lab.path('run-1'));
    symlinkSync('run-1', lab.path('raw'));
    const { run } = await startWatch(lab, '0.3', { env });
    lab.write(lab.path('run-2/a.csv'), 'a\n');
    rmSync(lab.path('raw'));
    symlinkSync('run-2', lab.path('raw'));
    if (removeOld) rmSync(lab.path('run-1'), { recursive: true });
    await until('the move', () => logEvents(lab).some((e) => e.kind === 'warning' && said.test(e.message ?? '')), 30_000);
    lab.write(lab.path('raw/next.csv'), 'next\n');
    // Every run begun has ended (the removal's own events start one too): Ctrl-C then finds none running.
    const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
    await until('a change in the new target pushed', () => existsSync(lab.outside('nas/raw/next.csv')) && idle(), 30_000);
    await stop(lab, run);
    return lab;
  };

  it('follows a symlinked pair folder to its new target when the old one is removed (a `latest` link moved to the next run: review 50)', async () => {
    const lab = await followsLink(true, /is back: watching it again/);
    expect(logEvents(lab).filter((e) => e.kind === 'warning' && /cannot watch/.test(e.message ?? ''))).toEqual([]);
  });

  it('follows a symlinked pair folder to its new target while the old one is kept (`latest` moved on: review 51)', async () => {
    await followsLink(false, /now leads to .*run-2: watching it$/);
  });

  // Linux's own watcher only: what @parcel/watcher does with a file for a root is its own (here it is
  // a watch that cannot be placed that is tested, not parcel's behaviour).
  it.skipIf(watcher === 'parcel')('says when a moved link leads to what cannot be watched, once, and follows it on when it moves again (review 52: silently deaf)', async () => {
    const lab = watchLab();
    renameSync(lab.path('raw'), lab.path('run-1'));
    symlinkSync('run-1', lab.path('raw'));
    lab.write(lab.path('not-a-folder'), 'x');
    const { run } = await startWatch(lab, '0.3', { env });
    rmSync(lab.path('raw'));
    symlinkSync('not-a-folder', lab.path('raw'));
    await until('the warning', () => logEvents(lab).some((e) => e.kind === 'warning' && /which cannot be watched \(.*is not a folder\)/.test(e.message ?? '')), 30_000);
    lab.write(lab.path('run-2/a.csv'), 'a\n');
    rmSync(lab.path('raw'));
    symlinkSync('run-2', lab.path('raw'));
    await until('the move', () => logEvents(lab).some((e) => e.kind === 'warning' && /now leads to .*run-2: watching it$/.test(e.message ?? '')), 30_000);
    const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
    await until('the new target pushed', () => existsSync(lab.outside('nas/raw/a.csv')) && idle(), 30_000);
    await stop(lab, run);
    expect(logEvents(lab).filter((e) => e.kind === 'warning' && /cannot be watched/.test(e.message ?? ''))).toHaveLength(1);
  });

  it('watches the new folder when the pair folder is moved aside and made again (its watch had followed the old one, deaf; a disk mounted on the folder is the same case: review 53)', async () => {
    const lab = watchLab();
    const { run } = await startWatch(lab, '0.3', { env });
    renameSync(lab.path('raw'), lab.path('raw.old'));
    mkdirSync(lab.path('raw'));
    // @parcel/watcher reports the old folder's removal (then it is watched as back); the per-folder watcher follows the moved one, and the look every 2 s finds another folder there.
    await until('the new folder watched', () => warned(lab, /lab\/raw (is another folder now: watching it|is back: watching it again)$/), 30_000);
    await pushedThenStopped(lab, run, 'new.csv');
  });

  it('follows a pair folder made a symlink after watch started, when that link moves on (review 53: only a link at the start was looked at)', async () => {
    const lab = watchLab();
    const { run } = await startWatch(lab, '0.3', { env });
    rmSync(lab.path('raw'), { recursive: true });
    lab.write(lab.path('run-7/a.csv'), 'a\n');
    symlinkSync('run-7', lab.path('raw'));
    // Seen as the folder back (its removal's events came first) or as the link moved (the link was there by then).
    await until('the link watched', () => warned(lab, /(is back: watching it again|now leads to .*run-7: watching it)$/), 30_000);
    lab.write(lab.path('run-8/a.csv'), 'a\n');
    rmSync(lab.path('raw'));
    symlinkSync('run-8', lab.path('raw'));
    await until('the move', () => warned(lab, /now leads to .*run-8: watching it$/), 30_000);
    await pushedThenStopped(lab, run, 'next.csv');
  });

  it('says which folder it cannot watch, and exits 1 when it can watch none', async () => {
    const lab = watchLab();
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: raw', 'local: missing'));
    const r = await lab.cli(['watch', '--debounce', '0.3'], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/warning: raw: cannot watch .*\/lab\/missing: /);
    expect(r.stderr).not.toContain('watching raw');
  });
});

describe('watch runs (issue 12: cost grows with the change)', () => {
  it('hands the tool only the changed files, and never runs a pair twice at once (a change during a run gets the next run)', async () => {
    const lab = new Lab();
    const runs = lab.outside('runs.log');
    // The hooks mark each run's start, its pushed files, and its end after a pause: an overlap would show as two starts in a row.
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    hooks:\n      before: ["sh", "-c", "echo start >> ${runs}"]\n      after: ["sh", "-c", "echo pushed >> ${runs}; sleep 1; echo end >> ${runs}"]\n`);
    for (let i = 0; i < 30; i++) lab.write(lab.path(`raw/d${i % 3}/f${i}.csv`), `${i}\n`);
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    rmSync(runs);
    const { run } = await startWatch(lab, '0.3');
    lab.write(lab.path('raw/d1/f4.csv'), 'changed\n');
    await until('the first run to have pushed', () => existsSync(runs) && readFileSync(runs, 'utf8').includes('pushed'), 30_000);
    lab.write(lab.path('raw/d2/new.csv'), 'new\n'); // during the first run (its after hook is pausing)
    await until('two runs', () => finishedRuns(lab) === 2, 30_000);
    await stop(lab, run);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['start', 'pushed', 'end', 'start', 'pushed', 'end']);
    const [first, second] = watchResults(lab);
    expect(first).toMatchObject({ status: 'ok', changes: { transfer: ['d1/f4.csv'], delete: [] } });
    expect(second).toMatchObject({ status: 'ok', changes: { transfer: ['d2/new.csv'], delete: [] } });
    expect(changedSteps(lab)).toEqual(['1 changed path: d1/f4.csv', '1 changed path: d2/new.csv']);
    expect(lab.tree(lab.outside('nas/raw'))).toMatchObject({ 'd1/f4.csv': 'changed\n', 'd2/new.csv': 'new\n' });
  });
});

describe('watch, as it starts', () => {
  const started = (lab: Lab): string[] => logEvents(lab).filter((e) => e.kind === 'pair_step' && e.step?.startsWith('watch started')).map((e) => e.step as string);

  it('pushes each pair once it is watched: what changed while no watch ran (a restart) is sent without waiting for a change; later runs only on changes', async () => {
    const lab = watchLab(); // raw/a.csv, written before watch starts, never pushed
    const { run } = await startWatch(lab, '0.3', { initialPush: true });
    await until('the push at the start', () => finishedRuns(lab) === 1, 30_000);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n' });
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('the push of new.csv', () => finishedRuns(lab) === 2, 30_000);
    await stop(lab, run);
    expect(runCount(lab)).toBe(2);
    expect(started(lab)).toEqual(['watch started: pushing what changed while it was not watching']);
    expect(changedSteps(lab)).toEqual(['1 changed path: new.csv']);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n', 'new.csv': 'new\n' });
  });

  it('runs at most --concurrency pairs at once, the start pushes of many pairs too (review 54: N logins into one host at once)', async () => {
    const lab = new Lab();
    const runs = lab.outside('runs.log');
    const pair = (name: string): string => `  - name: ${name}\n    local: ${name}\n    remote: nas:${name}\n    hooks:\n      before: ["sh", "-c", "echo start >> ${runs}; sleep 0.5"]\n      after: ["sh", "-c", "echo end >> ${runs}"]\n`;
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n${['a', 'b', 'c'].map(pair).join('')}`);
    for (const name of ['a', 'b', 'c']) lab.write(lab.path(`${name}/f.csv`), `${name}\n`);
    const run = lab.spawn(['watch', '--debounce', '0.3', '--concurrency', '1', '--log-file', lab.outside('watch.log')]);
    await until('the three start pushes', () => finishedRuns(lab) === 3, 30_000);
    await stop(lab, run);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['start', 'end', 'start', 'end', 'start', 'end']);
    expect(started(lab)).toHaveLength(3);
    for (const name of ['a', 'b', 'c']) expect(lab.tree(lab.outside(`nas/${name}`))).toEqual({ 'f.csv': `${name}\n` });
  });

  it('gives a pair waiting for the only slot its turn before a pair whose runs outlast the max wait asks again (review 55: that pair took the slot it freed, every time)', async () => {
    const lab = new Lab();
    const tick = lab.path('a/tick');
    // a's runs write into a for 1.5 s, longer than 12 debounces (0.6 s): each run ends with a's next one due at once.
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: a\n    local: a\n    remote: nas:a\n    hooks:\n      before: ["sh", "-c", "i=0; while [ $i -lt 15 ]; do date +%N > ${tick}; sleep 0.1; i=$((i+1)); done"]\n  - name: b\n    local: b\n    remote: nas:b\n`);
    lab.write(lab.path('a/f.csv'), 'a\n').write(lab.path('b/f.csv'), 'b\n');
    const run = lab.spawn(['watch', '--debounce', '0.05', '--concurrency', '1', '--log-file', lab.outside('watch.log')]);
    await until("b's push", () => existsSync(lab.outside('nas/b/f.csv')), 30_000);
    run.kill('SIGINT');
    // a may be mid-run when Ctrl-C comes: 130 then.
    expect([0, 130]).toContain((await run).exitCode);
    expect(watchResults(lab).filter((r) => r.name === 'a').length).toBeLessThanOrEqual(2);
  });

  it('gives an outer pair its turn between two busy inner pairs that share the slots (review 56: they took turns and it waited for good)', async () => {
    const lab = new Lab();
    // x's and y's runs write into their folders for 1.5 s, longer than 12 debounces (0.6 s): each ends with its next run due at once.
    const busy = (name: string): string => `  - name: ${name}\n    local: a/${name}\n    remote: nas:${name}\n    hooks:\n      before: ["sh", "-c", "i=0; while [ $i -lt 15 ]; do date +%N > ${lab.path(`a/${name}/tick`)}; sleep 0.1; i=$((i+1)); done"]\n`;
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: a\n    local: a\n    remote: nas:a\n    exclude: ["/x/", "/y/"]\n${busy('x')}${busy('y')}`);
    lab.write(lab.path('a/f.csv'), 'a\n').write(lab.path('a/x/f.csv'), 'x\n').write(lab.path('a/y/f.csv'), 'y\n');
    const run = lab.spawn(['watch', '--debounce', '0.05', '--concurrency', '2', '--log-file', lab.outside('watch.log')]);
    // a's start push done and both inner pairs' runs going: a's change must wait for one of them to end.
    await until("a's start push, then x and y running", () => watchResults(lab).some((r) => r.name === 'a') && existsSync(lab.path('a/x/tick')) && existsSync(lab.path('a/y/tick')), 30_000);
    lab.write(lab.path('a/later.csv'), 'later\n');
    await until("a's change pushed while x and y keep running", () => existsSync(lab.outside('nas/a/later.csv')), 30_000);
    run.kill('SIGINT');
    expect([0, 130]).toContain((await run).exitCode);
  });

  it('tries the push at the start again when it fails, until it goes through (a host still booting)', async () => {
    const lab = new Lab();
    const down = lab.outside('host-down');
    lab.write(down, '');
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    hooks:\n      before: ["sh", "-c", "test ! -e ${down}"]\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n');
    const { run } = await startWatch(lab, '0.3', { initialPush: true });
    await until('the first try to fail', () => watchResults(lab).length === 1, 30_000);
    expect(watchResults(lab)[0]?.status).toBe('failed');
    rmSync(down);
    await until('the push at the start, tried again', () => watchResults(lab).length === 2, 30_000);
    await stop(lab, run);
    expect(watchResults(lab).map((r) => r.status)).toEqual(['failed', 'ok']);
    expect(started(lab)).toEqual(['watch started: pushing what changed while it was not watching', 'watch started: pushing what changed while it was not watching']);
    expect(logEvents(lab).filter((e) => e.kind === 'warning').map((e) => e.message)).toContainEqual(expect.stringMatching(/^raw ended failed: trying again in 2s/));
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n' });
  });
});
