// ssh sessions started before the CLI loads (exec/early.ts, bin/labsync.js): the second run of a command
// line starts the session the first one opened while node loads, and the engine takes it where it would
// have started it. Each case counts sshd's logins and sessions from its log, and looks for any process
// left mentioning the pair's remote folder (the local ssh, or the host's shell waiting for its go line).
// Every lab here runs cold (coldLab: LABSYNC_SSH_PERSIST=0): the early session is what saves the login when no
// connection is kept between runs, and these cases count each run's logins (test/ssh-persist.test.ts has the kept one).
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coldLab, json, Lab } from './harness/lab.js';
import { processesMentioning } from './harness/processes.js';
import { freePort, sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { until } from './harness/wait.js';
import { startWatch, stopWatch } from './harness/watch.js';

type Doc = { pairs: { status: string; error?: string; verify: { status: string } | null }[] };

const manifest = (host: SshHost, lab: Lab, port = host.port): string => sshPairManifest(host, lab, { port });

describe.skipIf(!sshdAvailable())('ssh sessions started before the CLI loads', () => {
  let host: SshHost;
  beforeAll(async () => {
    host = await startSshd(join(new Lab('labsync-early-sshd-').root, 'sshd'));
  });
  afterAll(() => stopSshd(host));
  const count = (what: RegExp): number => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(what) ?? []).length;
  const logins = (): number => count(/Accepted publickey/g);
  const sessions = (): number => count(/Starting session: command/g);
  const trace = { LABSYNC_TRACE: '1' };
  // Nothing of the pair's ssh is left: neither the local client nor the host's shell (the same machine here).
  const noneLeft = (lab: Lab): Promise<void> => until('no process mentioning the remote folder', () => processesMentioning(lab.outside('gpu')).length === 0);

  // The hints this lab's runs wrote (the cache folder under its own HOME, or XDG_CACHE_HOME).
  const hintFiles = (lab: Lab): string[] => {
    const dirs = [lab.env.XDG_CACHE_HOME, join(lab.home, '.cache')].filter((d): d is string => Boolean(d)).map((d) => join(d, 'labsync'));
    return dirs.filter((d) => existsSync(d)).flatMap((d) => readdirSync(d).filter((n) => n.startsWith('session-') && n.endsWith('.json')).map((n) => join(d, n)));
  };

  function newLab(): Lab {
    const lab = coldLab('labsync-early-');
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a.txt'), 'alpha');
    lab.write(lab.path('raw/sub/b.txt'), 'beta');
    return lab;
  }

  it('a push and a check the second time: the session the first one opened is started early and used, one login each', async () => {
    const lab = newLab();
    const first = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(first.exitCode).toBe(0);
    expect(first.stderr).not.toContain('ssh taken (early)');
    await noneLeft(lab);
    for (const args of [['data', 'push', '--json'], ['check', '--json']]) {
      if (args[0] === 'check') expect((await lab.cli(args, { env: trace })).exitCode).toBe(0); // its own command line: its own hint
      const [l, s] = [logins(), sessions()];
      const r = await lab.cli(args, { env: trace });
      expect(r.exitCode).toBe(0);
      expect(json<Doc>(r).pairs[0]?.verify?.status).toBe('in_sync');
      expect(r.stderr).toContain('ssh taken (early)');
      expect(r.stderr).not.toContain('ssh spawned (held)');
      await noneLeft(lab);
      expect([logins() - l, sessions() - s]).toEqual([1, 1]);
    }
    // A change rides the early session too: the file is sent and proved.
    lab.write(lab.path('raw/a.txt'), 'alpha, again');
    const changed = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(changed.exitCode).toBe(0);
    expect(changed.stderr).toContain('ssh taken (early)');
    expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha, again');
    await noneLeft(lab);
  });

  it('LABSYNC_EARLY_SSH=0 starts nothing early', async () => {
    const lab = newLab();
    const off = { ...trace, LABSYNC_EARLY_SSH: '0' };
    expect((await lab.cli(['data', 'push'], { env: off })).exitCode).toBe(0);
    const r = await lab.cli(['data', 'push'], { env: off });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('ssh spawned (held)');
  });

  it('the pair is locked by another run: the early session is killed unused, the host listed nothing, exit 75', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(lab);
    // A live holder (this test's own process) of the pair's lock.
    lab.write(lab.path('.labsync/locks/raw.lock'), JSON.stringify({ pid: process.pid, host: hostname(), bootId: '', startedAt: new Date().toISOString(), command: 'data push' }));
    const s = sessions();
    const r = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(r.exitCode).toBe(75);
    expect(r.stderr).toContain('ssh sessions started early: 1');
    expect(json<Doc>(r).pairs[0]?.status).toBe('locked');
    await noneLeft(lab);
    // At most the login it started (killed before or after its session began), never a second one.
    expect(sessions() - s).toBeLessThanOrEqual(1);
  });

  it('the manifest changed or turned invalid: nothing is started early, no login for an invalid one, nothing left', async () => {
    const lab = newLab();
    // The same environment in every run (LABSYNC_TRACE too): a hint is kept per environment.
    expect((await lab.cli(['data', 'push'], { env: trace })).exitCode).toBe(0);
    const text = readFileSync(lab.path('labsync.yaml'), 'utf8');
    // Changed (a comment): the hint no longer applies; the run opens its session itself.
    writeFileSync(lab.path('labsync.yaml'), `# edited\n${text}`);
    const changed = await lab.cli(['data', 'push'], { env: trace });
    expect(changed.exitCode).toBe(0);
    expect(changed.stderr).toContain('ssh spawned (held)');
    // Invalid: exit 2, and not a single login.
    const l = logins();
    writeFileSync(lab.path('labsync.yaml'), text.replace('remote: "gpu:raw"', 'remote: "gpu:raw"\n    bogus: 1'));
    const bad = await lab.cli(['data', 'push'], { env: trace });
    expect(bad.exitCode).toBe(2);
    await noneLeft(lab);
    expect(logins() - l).toBe(0);
  });

  it('a symlink in the host\'s folder is seen in the listing\'s one find walk: the pair goes rsync\'s own way', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    symlinkSync('a.txt', lab.outside('gpu', 'raw', 'link'));
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<{ pairs: { commands: string[] }[] }>(r).pairs[0]?.commands.some((c) => c.includes('--dry-run --itemize-changes'))).toBe(true);
    await noneLeft(lab);
  });

  it('a dead host: the early session fails, the run falls back and fails naming the connection, nothing is left', async () => {
    const lab = newLab();
    lab.manifest(manifest(host, lab, await freePort()));
    const first = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(first.exitCode).not.toBe(0);
    // The second run starts the same ssh early (the first one opened it), which is refused at once.
    // Taken, or (refused before the engine got to it) not taken and a login of its own tried: fails either way.
    const r = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ssh taken \(early\)|ssh early session had ended: not taken/);
    expect(json<Doc>(r).pairs[0]?.status).toBe('failed');
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/connect|Connection refused|ssh/i);
    await noneLeft(lab);
  });

  it('a pair with a before hook: the session started early is killed, the run logs in after the hook', async () => {
    const lab = newLab();
    const hooked = `${manifest(host, lab)}    hooks:\n      before: ["sh", "-c", "date > ${lab.outside('hook-ran')}"]\n`;
    lab.manifest(hooked);
    // The same command line both times: a hint is kept per command line.
    expect((await lab.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(lab);
    const [l, s] = [logins(), sessions()];
    const r = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]?.verify?.status).toBe('in_sync');
    expect(r.stderr).toContain('ssh sessions started early: 1');
    expect(r.stderr).not.toContain('ssh taken (early)');
    expect(r.stderr).toContain('ssh spawned (held)');
    expect(readFileSync(lab.outside('hook-ran'), 'utf8')).not.toBe('');
    await noneLeft(lab);
    // The early login (killed, perhaps before its session began) and the run's own.
    expect(logins() - l).toBeLessThanOrEqual(2);
    expect(sessions() - s).toBeGreaterThanOrEqual(1);
  });

  it('a hint another user could have written (group- or world-writable) is not used', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(lab);
    const hints = hintFiles(lab);
    // The command line's own hint and the shared one of this folder and environment.
    expect(hints.length).toBe(2);
    for (const f of hints) expect(statSync(f).mode & 0o077).toBe(0);
    for (const f of hints) chmodSync(f, 0o666);
    const r = await lab.cli(['data', 'push', '--json'], { env: trace });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('ssh sessions started early: 0');
    await noneLeft(lab);
    // That push wrote both again (0600): made writable again, another command line's first run does not take the shared one.
    for (const f of hintFiles(lab)) chmodSync(f, 0o666);
    const c = await lab.cli(['check', '--json'], { env: trace });
    expect(c.exitCode).toBe(0);
    expect(c.stderr).toContain('ssh sessions started early: 0');
    await noneLeft(lab);
  });

  it('cron\'s push then check: the check\'s first run starts the session the push opened (one login), a command that opens none stops guessing', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(lab);
    const [l, s] = [logins(), sessions()];
    const c = await lab.cli(['check', '--json'], { env: trace });
    expect(c.exitCode).toBe(0);
    expect(json<Doc>(c).pairs[0]?.verify?.status).toBe('in_sync');
    expect(c.stderr).toContain('ssh taken (early)');
    expect(c.stderr).not.toContain('ssh spawned (held)');
    await noneLeft(lab);
    expect([logins() - l, sessions() - s]).toEqual([1, 1]);
    // Not a command that runs pairs: nothing started from the shared hint, not a login.
    const l2 = logins();
    const v = await lab.cli(['validate'], { env: trace });
    expect(v.exitCode).toBe(0);
    expect(v.stderr).toContain('ssh sessions started early: 0');
    // A pair command that opens no session (plan runs nothing): its first run's guess is killed unused,
    // its own (empty) hint then stops it; the second run starts nothing.
    const p1 = await lab.cli(['plan'], { env: trace });
    expect(p1.exitCode).toBe(0);
    expect(p1.stderr).toContain('ssh sessions started early: 1');
    await noneLeft(lab);
    const p2 = await lab.cli(['plan'], { env: trace });
    expect(p2.exitCode).toBe(0);
    expect(p2.stderr).toContain('ssh sessions started early: 0');
    await noneLeft(lab);
    // At most the killed guess logged in (killed before or after its login).
    expect(logins() - l2).toBeLessThanOrEqual(1);
    // The manifest changed: the shared hint is not used by a new command line either.
    writeFileSync(lab.path('labsync.yaml'), `# edited\n${readFileSync(lab.path('labsync.yaml'), 'utf8')}`);
    const d = await lab.cli(['check', 'data', '--json'], { env: trace });
    expect(d.exitCode).toBe(0);
    expect(d.stderr).toContain('ssh sessions started early: 0');
    expect(d.stderr).toContain('ssh spawned (held)');
    await noneLeft(lab);
  });

  it('only the sessions of the manifest this command line reads: never another -c/--config file\'s, a nearer manifest made since, or watch\'s', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(lab);
    // Another manifest, naming no ssh host: a new command line's first run must not start the shared hint's session.
    const local = (dir: string): string => `version: 1\nremotes:\n  here: { type: local, path: ${lab.outside(dir)} }\ndata:\n  - name: raw\n    local: raw\n    remote: here\n`;
    writeFileSync(lab.path('other.yaml'), local('other'));
    const l = logins();
    const dashes = [['data', 'push', '--log-file', '--', '-c', 'other.yaml']]; // `--` as an option's value: commander reads other.yaml
    for (const args of [['data', 'push', '--config', 'other.yaml'], ['data', 'push', '--config=other.yaml'], ['check', '-c', 'other.yaml'], ...dashes]) {
      const r = await lab.cli(args, { env: trace });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('ssh sessions started early: 0');
    }
    // A manifest made nearer the folder the command runs in than the one the hint was read from.
    lab.write(lab.path('sub/raw/c.txt'), 'gamma');
    expect((await lab.cli(['data', 'push', '--json'], { env: trace, cwd: lab.path('sub') })).exitCode).toBe(0);
    await noneLeft(lab);
    writeFileSync(lab.path('sub/labsync.yaml'), local('nearer'));
    const near = await lab.cli(['data', 'push', '--json'], { env: trace, cwd: lab.path('sub') });
    expect(near.exitCode, near.stderr).toBe(0);
    expect(near.stderr).toContain('ssh sessions started early: 0');
    expect(readFileSync(lab.outside('nearer', 'c.txt'), 'utf8')).toBe('gamma');
    // watch runs pairs only when files change: it starts no session from any hint.
    const { run } = await startWatch(lab, '0.2', { env: trace });
    await stopWatch(lab, run);
    expect(String((await run).stderr)).toContain('ssh sessions started early: 0');
    await noneLeft(lab);
    // The sub folder's first push logged in once; nothing else did.
    expect(logins() - l).toBe(1);
  });

  it('a session whose ssh options hold a secret (from a secret-named variable) is never written to a hint', async () => {
    const lab = newLab();
    const secret = 'hint-secret-value-4711';
    lab.env.LAB_API_TOKEN = secret;
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace(/ }\n/, ', ssh_options: ["SetEnv=LAB_TOKEN=${LAB_API_TOKEN}"] }\n'));
    for (let i = 0; i < 2; i++) {
      const r = await lab.cli(['data', 'push', '--json'], { env: trace });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('ssh sessions started early: 0');
      await noneLeft(lab);
    }
    for (const f of hintFiles(lab)) expect(readFileSync(f, 'utf8')).not.toContain(secret);

    // A secret-named variable whose value is only in labsync's own words (here the lab's folder name, in
    // the hint's cwd and the host's script; GCM_CREDENTIAL_STORE=cache against ".cache"): hints still work.
    const other = newLab();
    other.env.LAB_CREDENTIAL_STORE = basename(other.root);
    expect((await other.cli(['data', 'push', '--json'], { env: trace })).exitCode).toBe(0);
    await noneLeft(other);
    const again = await other.cli(['data', 'push', '--json'], { env: trace });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('ssh taken (early)');
    await noneLeft(other);
  });

  it('a shell\'s own bookkeeping ($_ and $OLDPWD) changing between runs still finds the hint', async () => {
    const lab = newLab();
    expect((await lab.cli(['data', 'push'], { env: { ...trace, _: '/usr/bin/env', OLDPWD: '/somewhere' } })).exitCode).toBe(0);
    await noneLeft(lab);
    const r = await lab.cli(['data', 'push'], { env: { ...trace, _: '/usr/local/bin/labsync', OLDPWD: '/elsewhere' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('ssh taken (early)');
    await noneLeft(lab);
  });
});
