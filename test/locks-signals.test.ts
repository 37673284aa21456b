// Two runs at once, Ctrl-C and SIGTERM mid-transfer, a killed labsync: with real rsync, slowed by --bwlimit.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { killExact, processesMentioning } from './harness/processes.js';
import { until } from './harness/wait.js';

/** A pair whose push takes ~20 s: 4 MiB at 200 KiB/s. */
function slowLab(): Lab {
  const lab = new Lab().manifest(`version: 1
defaults:
  retries: 0
remotes:
  nas: { type: local, path: ../nas }
models:
  - name: ckpt
    local: models
    remote: nas:models
    bwlimit: 200K
`);
  lab.write(lab.path('models/big.ckpt'), randomBytes(4 * 1024 * 1024));
  return lab;
}

const rsyncRunning = (lab: Lab): boolean => processesMentioning(lab.outside('nas')).some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes('--bwlimit'));

describe('locks', () => {
  it('a second run of the same pair exits 75 at once, naming the holder, and touches nothing', async () => {
    const lab = slowLab();
    const first = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    const second = await lab.cli(['models', 'push', '--json']);
    expect(second.exitCode).toBe(75);
    expect(second.durationMs).toBeLessThan(3000);
    expect(json<{ pairs: { commands: string[] }[] }>(second).pairs[0]?.commands).toEqual([]);
    expect(json<{ pairs: { status: string; error: string }[] }>(second).pairs[0]).toMatchObject({
      status: 'locked', error: expect.stringMatching(new RegExp(`^locked by PID ${first.pid} on .* since \\d{4}-`)),
    });
    first.kill('SIGINT');
    expect((await first).exitCode).toBe(130);
  });

  it('--wait waits for the holder instead of exiting 75', async () => {
    const lab = slowLab();
    lab.write(lab.path('models/big.ckpt'), randomBytes(300 * 1024));
    const first = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    const second = await lab.cli(['models', 'push', '--wait', '60']);
    expect((await first).exitCode).toBe(0);
    expect(second.exitCode, second.stderr).toBe(0);
  });

  it('a check while a push of the pair moves files says the run is under way (exit 75), not drift (exit 4); with --wait it checks once the push has ended', async () => {
    const lab = slowLab();
    const first = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    const during = await lab.cli(['models', 'check', '--json']);
    expect(during.exitCode, during.stderr).toBe(75);
    expect(json<{ pairs: { status: string; error: string }[] }>(during).pairs[0]).toMatchObject({
      status: 'locked', error: expect.stringMatching(new RegExp(`^a run of this pair is under way: PID ${first.pid} on .* \\(models push\\); check it once that run has ended`)),
    });
    first.kill('SIGINT');
    expect((await first).exitCode).toBe(130);

    lab.write(lab.path('models/big.ckpt'), randomBytes(300 * 1024));
    const second = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    const waited = await lab.cli(['models', 'check', '--wait', '60', '--json']);
    expect((await second).exitCode).toBe(0);
    expect(waited.exitCode, waited.stderr).toBe(0);
    expect(json<{ pairs: { status: string }[] }>(waited).pairs[0]?.status).toBe('in_sync');

    // A push waited for that fails (stopped here) leaves real drift: the check after the wait says so (exit 4), not locked.
    lab.write(lab.path('models/big.ckpt'), randomBytes(4 * 1024 * 1024));
    const third = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    const after = lab.cli(['models', 'check', '--wait', '60', '--json']);
    third.kill('SIGINT');
    expect((await third).exitCode).toBe(130);
    const drift = await after;
    expect(drift.exitCode, drift.stdout + drift.stderr).toBe(4);
  });

  it('takes over the lock of a labsync that was killed, with a warning', async () => {
    const lab = slowLab();
    const first = lab.spawn(['models', 'push']);
    // Kill while rsync's temp file (.big.ckpt.XXXXXX) sits in the destination: SIGKILL cannot be caught,
    // so rsync never moves it aside, and the next run must still finish and verify.
    await until('rsync\'s temp file', () => existsSync(lab.outside('nas/models')) && readdirSync(lab.outside('nas/models')).some((n) => n.startsWith('.big.ckpt.')));
    first.kill('SIGKILL');
    await first;
    try {
      // Its rsync dies with it (PR_SET_PDEATHSIG through setpriv), not writing on beside the next run's
      // (review 42: it had run to the end, in a group of its own, while the next run took the lock).
      await until('rsync to end with the labsync that started it', () => !rsyncRunning(lab), 10_000);
    } finally {
      for (const p of processesMentioning(lab.outside('nas'))) killExact(p.pid, lab.outside('nas'), 'SIGKILL');
    }
    expect(existsSync(lab.path('.labsync/locks/ckpt.lock'))).toBe(true);
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    bwlimit: 200K\n', ''));
    const next = await lab.cli(['models', 'push']);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`warning: ckpt: took over a stale lock from PID ${first.pid}`));
    expect(existsSync(lab.path('.labsync/locks/ckpt.lock'))).toBe(false);
    expect(readFileSync(lab.outside('nas/models/big.ckpt')).equals(readFileSync(lab.path('models/big.ckpt')))).toBe(true);
  });

  it('a lock that cannot be taken fails each pair, saying why, runs nothing, and exits 1 without a stack trace', async () => {
    const lab = new Lab().manifest(`version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: a\n    local: a\n    remote: nas:a\n  - name: b\n    local: b\n    remote: nas:b\n`);
    lab.write(lab.path('a/x'), 'x').write(lab.path('b/y'), 'y');
    lab.write(lab.path('.labsync/locks'), ''); // a file where the locks folder should be
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const doc = json<{ pairs: { name: string; status: string; error: string }[] }>(r);
    expect(doc.pairs.map((p) => [p.name, p.status])).toEqual([['a', 'failed'], ['b', 'failed']]);
    for (const p of doc.pairs) expect(p.error).toMatch(/^could not take this pair's lock \(EEXIST: [^)]*\.labsync\/locks'\); nothing was run$/);
    expect(existsSync(lab.outside('nas'))).toBe(false);
  });
});

describe('signals', () => {
  // SIGHUP: the terminal a run was started from closed (review 42: labsync died of it, its rsync left running).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} mid-transfer stops rsync, releases the lock, records interrupted, exits 130`, async () => {
      const lab = slowLab();
      const run = lab.spawn(['models', 'push']);
      await until('the transfer to start', () => rsyncRunning(lab));
      await new Promise((r) => setTimeout(r, 500));
      run.kill(signal);
      const done = await run;
      expect(done.exitCode).toBe(130);
      expect(String(done.stderr)).toContain('interrupted: stopping running transfers');
      expect(processesMentioning(lab.root)).toEqual([]);
      expect(existsSync(lab.path('.labsync/locks/ckpt.lock'))).toBe(false);
      const state = JSON.parse(readFileSync(lab.path('.labsync/state.json'), 'utf8'));
      expect(state.pairs.ckpt).toMatchObject({ status: 'interrupted' });
      // --partial-dir (a planned file of 1 MiB or more): whatever arrived waits aside; nothing truncated sits under the final name.
      expect(existsSync(lab.outside('nas/models/big.ckpt'))).toBe(false);
      const partial = lab.outside('nas/models/.rsync-partial');
      if (existsSync(partial)) expect(readdirSync(partial)).toEqual(['big.ckpt']);
      // The next run picks up and finishes.
      lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    bwlimit: 200K\n', ''));
      expect((await lab.cli(['models', 'push'])).exitCode).toBe(0);
      expect(readFileSync(lab.outside('nas/models/big.ckpt')).equals(readFileSync(lab.path('models/big.ckpt')))).toBe(true);
    });
  }

  it('SIGTERM mid-transfer with no --partial-dir: no temp file, no partial folder, only whole files; the next run completes', async () => {
    const lab = slowLab();
    // Below rsync's resume size (PARTIAL_MIN_BYTES, 1 MiB) each: a stopped one is sent again whole.
    rmSync(lab.path('models/big.ckpt'));
    for (let i = 0; i < 6; i++) lab.write(lab.path(`models/shard-${i}.bin`), randomBytes(900 * 1024));
    const run = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    expect(processesMentioning(lab.outside('nas')).some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes('--partial-dir'))).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGTERM');
    expect((await run).exitCode).toBe(130);
    expect(processesMentioning(lab.root)).toEqual([]);
    // What arrived is whole files under their names only: rsync removed the one it was in (.shard-N.bin.XXXXXX).
    const arrived = readdirSync(lab.outside('nas/models'));
    expect(arrived.filter((n) => !/^shard-\d\.bin$/.test(n))).toEqual([]);
    expect(arrived.length).toBeLessThan(6);
    for (const n of arrived) expect(readFileSync(lab.outside(`nas/models/${n}`)).equals(readFileSync(lab.path(`models/${n}`)))).toBe(true);
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    bwlimit: 200K\n', ''));
    expect((await lab.cli(['models', 'push'])).exitCode).toBe(0);
    expect(readdirSync(lab.outside('nas/models')).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `shard-${i}.bin`));
  });

  it('a pair whose turn comes after SIGTERM is not started: no hook, no lock, not recorded (review 42: its before hook ran and its failure was pinged)', async () => {
    const lab = slowLab();
    const hookLog = lab.outside('hook.log');
    lab.manifest(`${readFileSync(lab.path('labsync.yaml'), 'utf8')}  - name: next\n    local: more\n    remote: nas:more\n    hooks:\n      before: ["sh", "-c", "echo ran >> ${hookLog}"]\n`);
    lab.write(lab.path('more/x'), 'x');
    const run = lab.spawn(['models', 'push', '--concurrency', '1', '--json']);
    await until('the transfer to start', () => rsyncRunning(lab));
    run.kill('SIGTERM');
    const done = await run;
    expect(done.exitCode).toBe(130);
    const pairs = json<{ pairs: { name: string; status: string; error: string }[] }>(done as never).pairs;
    expect(pairs.find((p) => p.name === 'next')).toMatchObject({ status: 'skipped', error: expect.stringMatching(/not started/) });
    expect(existsSync(hookLog)).toBe(false);
    expect(existsSync(lab.outside('nas/more'))).toBe(false);
    const state = JSON.parse(readFileSync(lab.path('.labsync/state.json'), 'utf8'));
    expect(state.pairs.next).toBeUndefined();
  });

  it('a second SIGTERM (Slurm sends two; Ctrl-C twice) kills at once and still leaves no lock behind (review 42)', async () => {
    const lab = slowLab();
    const run = lab.spawn(['models', 'push']);
    await until('the transfer to start', () => rsyncRunning(lab));
    run.kill('SIGTERM');
    run.kill('SIGTERM');
    const done = await run;
    expect(done.exitCode).toBe(130);
    expect(existsSync(lab.path('.labsync/locks/ckpt.lock'))).toBe(false);
    await until('rsync to be gone', () => !rsyncRunning(lab));
  });
});
