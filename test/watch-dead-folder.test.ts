// watch with pair folders on a file system that stops answering, as an NFS mount does when its server
// is gone (common on clusters): a FUSE mount whose daemon never answers (harness/dead-fuse.ts). Each
// look at such a folder holds one of libuv's four threads until the server answers; four of them had
// stalled every file access of the watch, so the healthy pairs' runs hung too.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { expect, it } from 'vitest';
import { canMountFuse, deadFolder, type DeadFolder } from './harness/dead-fuse.js';
import { Lab } from './harness/lab.js';
import { processesMentioning } from './harness/processes.js';
import { until } from './harness/wait.js';
import { finishedRuns, logEvents, startWatch, stopWatch } from './harness/watch.js';

const LINKED = ['d1', 'd2', 'd3', 'd4'];

const warnings = (lab: Lab, re: RegExp): string[] => logEvents(lab).filter((e) => e.kind === 'warning' && re.test(e.message ?? '')).map((e) => e.pair as string);

deadIt('four pair folders whose links move into a file system that never answers leave the other pair watched and pushed (removed and made again: watched again), each is said once it has not answered for 10s and again once it answers (fails fast), and watch then stops cleanly', async () => {
  const lab = new Lab();
  let manifest = 'version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n';
  for (const name of LINKED) {
    mkdirSync(lab.outside(`real/${name}`), { recursive: true });
    lab.write(lab.outside(`real/${name}/f.txt`), `${name}\n`);
    symlinkSync(lab.outside(`real/${name}`), lab.path(name));
    manifest += `  - name: ${name}\n    local: ${name}\n    remote: nas:${name}\n`;
  }
  lab.manifest(manifest);
  lab.write(lab.path('raw/a.csv'), 'a\n');
  await onDeadMount(lab, async (dead) => {
    const { run } = await startWatch(lab, '0.3', { ready: 'watching raw' });
    // Each link now leads into the dead mount (replaced whole, as `ln -sfn` does): the next look at it waits.
    for (const name of LINKED) {
      repoint(lab, name, lab.outside(`dead/${name}`));
    }
    // Past the next 2-second look of every pair: each of the four looks has begun, or waits its turn.
    await new Promise((r) => setTimeout(r, 3000));
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('new.csv pushed while the looks wait', () => existsSync(lab.outside('nas/raw/new.csv')) && finishedRuns(lab) === 1, 30_000);
    await until('the four folders that do not answer said', () => warnings(lab, /has not answered for 10s/).length === LINKED.length, 30_000);
    const slow = warnings(lab, /has not answered for 10s/);
    expect(slow.sort()).toEqual(LINKED);
    // The other pair's looks go on beside them (review 58: two looks out had held both places of a gate):
    // raw removed and made again is watched again and pushed.
    rmSync(lab.path('raw'), { recursive: true });
    await until('raw said removed', () => warnings(lab, /raw was removed/).length === 1, 30_000);
    lab.write(lab.path('raw/again.csv'), 'again\n');
    await until('raw watched again', () => warnings(lab, /raw is back/).length === 1, 30_000);
    // Pushed, and every run begun has ended (a stop during one would end watch with 130).
    const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
    await until('again.csv pushed', () => existsSync(lab.outside('nas/raw/again.csv')) && idle(), 30_000);
    await dead.revive();
    await until('each said answers again', () => warnings(lab, /answers again$/).length === slow.length, 30_000);
    await stopWatch(lab, run);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual({ 'a.csv': 'a\n', 'again.csv': 'again\n', 'new.csv': 'new\n' });
  });
});

deadIt('four pair folders that do not answer as watch starts hold up neither the pair after them nor the stop: said after 10s, left out of the start push, the other pair watched and pushed; Ctrl-C while they still do not answer ends watch at once, nothing left behind (reviews 57, 58)', async () => {
  const lab = new Lab();
  // The silent pairs first: the start had asked the pairs one by one, and never reached raw; four of them
  // had taken all of libuv's threads, and node's exit waited for them.
  let manifest = 'version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n';
  for (const name of LINKED) manifest += `  - name: ${name}\n    local: ${name}\n    remote: nas:${name}\n`;
  lab.manifest(`${manifest}  - name: raw\n    local: raw\n    remote: nas:raw\n`);
  lab.write(lab.path('raw/a.csv'), 'a\n');
  await onDeadMount(lab, async () => {
    for (const name of LINKED) symlinkSync(lab.outside(`dead/${name}`), lab.path(name));
    const { run } = await startWatch(lab, '0.3', { ready: 'watching d1', initialPush: true });
    expect(warnings(lab, /has not answered for 10s/).sort()).toEqual(LINKED);
    await until('the start push of raw', () => existsSync(lab.outside('nas/raw/a.csv')) && finishedRuns(lab) === 1, 30_000);
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('new.csv pushed', () => existsSync(lab.outside('nas/raw/new.csv')) && finishedRuns(lab) === 2, 30_000);
    // Only raw ran: the silent pairs' runs would have waited on their folders too.
    expect(logEvents(lab).filter((e) => e.kind === 'pair_end').map((e) => e.result?.name)).toEqual(['raw', 'raw']);
    // Stopped while the folders still do not answer: exit 0, no process of the lab left but the dead mount's
    // own (the looks' helper killed; node's exit had waited for its threads stuck on the mount).
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect(processesMentioning(lab.root).filter((p) => !p.cmdline.includes('dead-fuse.py'))).toEqual([]);
    // The helper's command line names no lab folder; its environment (the lab's HOME) does.
    await until('the looks\' helper gone', () => withLabEnv(lab.home).length === 0, 15_000);
  });
});

deadIt('a watch killed outright (SIGKILL) while a pair folder does not answer leaves no process behind: the looks\' helper, its question still out, ends as its input closes', async () => {
  const lab = d1AndRaw();
  await onDeadMount(lab, async () => {
    symlinkSync(lab.outside('dead/d1'), lab.path('d1'));
    const { run } = await startWatch(lab, '0.3', { ready: 'watching d1' });
    expect(warnings(lab, /has not answered for 10s/)).toEqual(['d1']);
    run.kill('SIGKILL');
    await run;
    // The helper's command line names no lab folder; its environment (the lab's HOME) does.
    await until('no process of the lab left', () => withLabEnv(lab.home).length === 0, 15_000);
  });
});

deadIt('a SIGTERM sent to the whole group (systemd, Slurm) while a pair folder does not answer drains the other pair only: the looks\' helper signalled too does not make the silent pair count as answering (review 60: it was drained, and the stop hung)', async () => {
  const lab = d1AndRaw();
  mkdirSync(lab.outside('real/d1'), { recursive: true });
  symlinkSync(lab.outside('real/d1'), lab.path('d1'));
  await onDeadMount(lab, async () => {
    const { run } = await startWatch(lab, '0.3', { ready: 'watching d1' });
    repoint(lab, 'd1', lab.outside('dead/d1'));
    // Its 2-second look is out on the dead mount.
    await until('d1 said not answering', () => warnings(lab, /d1 has not answered for 10s/).length === 1, 30_000);
    lab.write(lab.path('raw/b.csv'), 'b\n');
    for (const pid of withLabEnv(lab.home)) process.kill(pid, 'SIGTERM');
    const done = await run;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect(warnings(lab, /^not drained: .*d1 has not answered/)).toEqual(['d1']);
    expect(existsSync(lab.outside('nas/raw/b.csv'))).toBe(true);
    await until('no process of the lab left', () => withLabEnv(lab.home).length === 0, 15_000);
  });
});

deadIt('a pair late at the start because its link led into a dead mount is watched and pushed once the link is re-pointed to a folder that answers (review 61: only the first question was waited on, for good)', async () => {
  const lab = d1AndRaw();
  lab.write(lab.outside('real/d1/m.pt'), 'm\n');
  await onDeadMount(lab, async () => {
    symlinkSync(lab.outside('dead/d1'), lab.path('d1'));
    const { run } = await startWatch(lab, '0.3', { ready: 'watching d1', initialPush: true });
    expect(warnings(lab, /has not answered for 10s/)).toEqual(['d1']);
    repoint(lab, 'd1', lab.outside('real/d1'));
    await until('d1 watched once its link answers', () => warnings(lab, /d1 answers: watching it/).length === 1, 40_000);
    await until('d1 pushed', () => existsSync(lab.outside('nas/d1/m.pt')), 30_000);
    const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
    await until('every run ended', idle, 30_000);
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(0);
  });
});

deadIt('a watched pair whose link moved into a dead mount is followed when the link moves on to a folder that answers, its 2-second look still out on the dead one (review 62: that look was waited on for good)', async () => {
  const lab = d1AndRaw();
  mkdirSync(lab.outside('real/d1'), { recursive: true });
  lab.write(lab.outside('real2/d1/n.pt'), 'n\n');
  symlinkSync(lab.outside('real/d1'), lab.path('d1'));
  await onDeadMount(lab, async () => {
    const { run } = await startWatch(lab, '0.3', { ready: 'watching d1' });
    repoint(lab, 'd1', lab.outside('dead/d1'));
    await until('d1 said not answering', () => warnings(lab, /d1 has not answered for 10s/).length === 1, 30_000);
    repoint(lab, 'd1', lab.outside('real2/d1'));
    await until('d1 followed to the folder that answers', () => warnings(lab, /d1 now leads to .*real2\/d1: watching it$/).length === 1, 30_000);
    await until('d1 pushed from there', () => existsSync(lab.outside('nas/d1/n.pt')), 30_000);
    const idle = (): boolean => logEvents(lab).filter((e) => e.kind === 'run_start').length === finishedRuns(lab);
    await until('every run ended', idle, 30_000);
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(0);
  });
});

/** A test on a dead mount (one run per test: a FUSE mount whose daemon never answers); skipped where no FUSE file system can be mounted (not root, or no /dev/fuse in the container). */
function deadIt(name: string, fn: () => Promise<void>): void {
  it.skipIf(!canMountFuse)(name, fn, 120_000);
}

/** `fn` with a dead mount at the lab's ../dead, detached after it whatever happens. */
async function onDeadMount(lab: Lab, fn: (dead: DeadFolder) => Promise<void>): Promise<void> {
  const dead = await deadFolder(lab.outside('dead'));
  try {
    await fn(dead);
  } finally {
    await dead.revive();
  }
}

/** Pairs d1 (its folder made by the test) and raw (holding a.csv), each pushed to ../nas. */
function d1AndRaw(): Lab {
  const lab = new Lab();
  lab.manifest('version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: d1\n    local: d1\n    remote: nas:d1\n  - name: raw\n    local: raw\n    remote: nas:raw\n');
  lab.write(lab.path('raw/a.csv'), 'a\n');
  return lab;
}

/** The pair folder link `name` now leads to `target`, replaced whole (as `ln -sfn` does). */
function repoint(lab: Lab, name: string, target: string): void {
  symlinkSync(target, lab.path(`${name}.new`));
  renameSync(lab.path(`${name}.new`), lab.path(name));
}

/** Processes (not zombies) whose environment mentions `needle`: a child started with the lab's env. */
function withLabEnv(needle: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid).flatMap((e) => {
    try {
      const state = readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      return state !== 'Z' && !cmd.includes('dead-fuse.py') && readFileSync(`/proc/${e}/environ`, 'utf8').includes(needle) ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}

deadIt('a pair whose folder stops answering with a change of it queued is not run (its run would block watch in the kernel): said, tried again later; the other pair is pushed meanwhile, and Ctrl-C ends watch (review 59)', async () => {
  const lab = d1AndRaw();
  mkdirSync(lab.outside('real/d1'), { recursive: true });
  symlinkSync(lab.outside('real/d1'), lab.path('d1'));
  await onDeadMount(lab, async () => {
    const { run } = await startWatch(lab, '1', { ready: 'watching d1' });
    // A change, then at once the link into the dead mount: its run comes a second later.
    lab.write(lab.outside('real/d1/x.csv'), 'x\n');
    repoint(lab, 'd1', lab.outside('dead/d1'));
    await until('d1 not run and said', () => warnings(lab, /^d1 was not run: .* has not answered for 3s .*; it runs once it answers$/).length === 1, 30_000);
    lab.write(lab.path('raw/new.csv'), 'new\n');
    const ended = (): (string | undefined)[] => logEvents(lab).filter((e) => e.kind === 'pair_end').map((e) => e.result?.name);
    await until('new.csv pushed', () => existsSync(lab.outside('nas/raw/new.csv')) && ended().length === 1, 30_000);
    expect(ended()).toEqual(['raw']);
    run.kill('SIGINT');
    const done = await run;
    expect([0, 130]).toContain(done.exitCode);
    await until('no process of the lab left', () => withLabEnv(lab.home).length === 0, 15_000);
  });
});
