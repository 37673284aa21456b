// watch where runs meet the world (a review's findings): a folder that never settles, a pair another
// labsync holds, the manifest's own folder inside the watched tree, and two nested pairs. Real rsync
// into a local folder remote.
import { appendFileSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { until } from './harness/wait.js';
import { expectTurnsTaken, finishedRuns, logEvents, loggedRunHook, startWatch, stopWatch, watchResults } from './harness/watch.js';

const pairLines = (lab: Lab, extra = ''): string => `version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ${lab.outside('nas')} }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n${extra}`;

describe('watch: runs that the tree or another labsync would hold back', () => {
  it('pushes a folder that never settles (a log written every 100 ms) 12 debounces after its first change', async () => {
    const lab = new Lab();
    lab.manifest(pairLines(lab));
    lab.write(lab.path('raw/log.txt'), '');
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    const { run } = await startWatch(lab, '0.3');
    const began = Date.now();
    lab.write(lab.path('raw/model.pt'), 'weights');
    // A debounce of 0.3 s never passes between these writes; the cap is 3.6 s.
    while (finishedRuns(lab) === 0 && Date.now() - began < 20_000) {
      appendFileSync(lab.path('raw/log.txt'), 'step\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopWatch(lab, run);
    expect(finishedRuns(lab)).toBeGreaterThan(0);
    expect(readFileSync(lab.outside('nas/raw/model.pt'), 'utf8')).toBe('weights');
  });

  it('tries a run that ended locked (another labsync held the pair) again, without another change', async () => {
    const lab = new Lab();
    const hold = lab.outside('hold');
    const holding = lab.outside('holding');
    // The other labsync: the same pair, whose before hook holds it (and its lock) while `hold` exists.
    lab.manifest(pairLines(lab, `    hooks:\n      before: ["sh", "-c", "if [ -f ${hold} ]; then touch ${holding}; sleep 4; fi"]\n`));
    lab.write(lab.path('raw/a.csv'), 'a\n');
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    const { run } = await startWatch(lab, '0.3');
    writeFileSync(hold, '');
    const other = lab.spawn(['data', 'push', '-q']);
    await until('the other labsync to hold the pair', () => existsSync(holding), 30_000);
    // Watch's own runs must not hold the pair through the hook.
    rmSync(hold);
    lab.write(lab.path('raw/a.csv'), 'saved while held\n');
    await until('a run after the locked one that pushed', () => watchResults(lab).at(-1)?.status === 'ok', 30_000);
    expect((await other).exitCode).toBe(0);
    await stopWatch(lab, run);
    const statuses = watchResults(lab).map((r) => r.status);
    expect(statuses[0]).toBe('locked');
    expect(statuses.at(-1)).toBe('ok');
    expect(logEvents(lab).some((e) => e.kind === 'warning' && e.message?.includes('ended locked: trying again in 2s'))).toBe(true);
    expect(readFileSync(lab.outside('nas/raw/a.csv'), 'utf8')).toBe('saved while held\n');
  });

  it('is not started again by its own writes where the manifest\'s folder lies below the pair\'s top (local: ..)', async () => {
    const lab = new Lab();
    lab.write(lab.path('sync/labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ${lab.outside('nas')} }\ndata:\n  - name: raw\n    local: ..\n    remote: nas:raw\n    exclude: ["/raw/"]\n`);
    lab.write(lab.path('notes.txt'), 'v1\n');
    const cwd = lab.path('sync');
    expect((await lab.cli(['data', 'push', '-q'], { cwd })).exitCode).toBe(0);
    const { run } = await startWatch(lab, '0.3', { cwd });
    lab.write(lab.path('notes.txt'), 'v2\n');
    await until('the push of the edit', () => finishedRuns(lab) === 1, 30_000);
    // Each run writes its log, state and receipt in sync/.labsync/: none of that may start another.
    await new Promise((r) => setTimeout(r, 2500));
    await stopWatch(lab, run);
    expect(finishedRuns(lab)).toBe(1);
    expect(readFileSync(lab.outside('nas/raw/notes.txt'), 'utf8')).toBe('v2\n');
  });

  it('backs off a pair that keeps failing, even with --debounce 0 (its own bound, not the max wait)', async () => {
    const lab = new Lab();
    lab.write(lab.outside('not-a-folder'), 'a file where the remote folder should be');
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('not-a-folder')}/raw"\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n');
    const { run } = await startWatch(lab, '0');
    lab.write(lab.path('raw/a.csv'), 'b\n');
    await until('the first failed run', () => watchResults(lab).length >= 1, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    await stopWatch(lab, run);
    // The first run, then one retry 2 s later (the next would be 4 s after that): never a loop.
    expect(watchResults(lab).map((r) => r.status)).toEqual(expect.arrayContaining(['failed']));
    expect(watchResults(lab).length).toBeLessThanOrEqual(2);
  });

  it('runs a nested pair that keeps changing even while the pair around it runs longer than the max wait (first come, first served)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ${lab.outside('nas')} }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    hooks:\n      before: ["sleep", "1.5"]\n  - name: ckpt\n    local: raw/ckpt\n    remote: nas:ckpt\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n').write(lab.path('raw/ckpt/log.txt'), '');
    const { run } = await startWatch(lab, '0.1', { ready: 'ckpt (' });
    const ckptRuns = (): number => watchResults(lab).filter((r) => r.name === 'ckpt').length;
    // A log line every 100 ms in ckpt/: both pairs see it; raw's runs (1.5 s) outlast the max wait (1.2 s).
    const began = Date.now();
    while (ckptRuns() === 0 && Date.now() - began < 20_000) {
      appendFileSync(lab.path('raw/ckpt/log.txt'), 'step\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    const whileWriting = ckptRuns();
    // The writes stopped: the runs they started end (none for 2.5 s, longer than raw's), then watch stops cleanly.
    let seen = -1;
    await until('the runs to settle', () => {
      const n = watchResults(lab).length;
      const still = n === seen;
      seen = n;
      return still;
    }, 30_000, 2500);
    await stopWatch(lab, run);
    expect(whileWriting).toBeGreaterThan(0);
  });

  /**
   * raw and ckpt (ckpt's folder `ckptLocal`, inside raw: as written, or through the link `latest`), each
   * run's before hook logging its start and end: one save in each at once makes both pairs due together.
   */
  async function takeTurns(ckptLocal: 'raw/ckpt' | 'latest'): Promise<void> {
    const lab = new Lab();
    const runs = lab.outside('runs.log');
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ${lab.outside('nas')} }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    exclude: ["/ckpt/"]\n${loggedRunHook(runs, 'raw')}  - name: ckpt\n    local: ${ckptLocal}\n    remote: nas:ckpt\n${loggedRunHook(runs, 'ckpt')}`);
    lab.write(lab.path('raw/a.csv'), 'a\n').write(lab.path('raw/ckpt/e1.pt'), '1');
    if (ckptLocal === 'latest') symlinkSync(lab.path('raw/ckpt'), lab.path('latest'));
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    writeFileSync(runs, '');
    const { run } = await startWatch(lab, '0.3', { ready: 'ckpt (' });
    lab.write(lab.path('raw/a.csv'), 'b\n').write(lab.path('raw/ckpt/e2.pt'), '2');
    await until('both runs', () => finishedRuns(lab) === 2, 30_000);
    await stopWatch(lab, run);
    expectTurnsTaken(runs, 2);
    expect(lab.tree(lab.outside('nas'))).toMatchObject({ 'raw/a.csv': 'b\n', 'ckpt/e2.pt': '2' });
  }

  it('never runs two nested pairs at once (as a push runs them): the one inside waits for the one around it', () => takeTurns('raw/ckpt'));

  it('never runs two pairs nested only through a link at once (ckpt\'s folder a link into raw): the folders as they answered take turns, as a push does', () => takeTurns('latest'));
});
