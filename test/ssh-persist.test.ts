// The ssh connection kept between runs (engine/ssh-keep.ts, adapters/rsync/ssh.ts): the first run's
// connection stays open control_persist (default 60s) after its last session, and the next run rides
// it. Each case counts sshd's logins from its log (a host of this file's own: the shared one's log
// counts other files' logins too) and looks at the sockets in the lab's own cache folder.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { descendsFrom, keptMasters, processesMentioning } from './harness/processes.js';
import { restartSshd, sshdAvailable, sshRemote, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { until } from './harness/wait.js';

type Doc = { pairs: { status: string; error?: string; verify: { status: string } | null }[] };

/** The manifest: one data pair `raw` pushed to `gpu:raw`; `remote` adds keys to the remote, `pair` lines to the pair. */
const manifest = (host: SshHost, lab: Lab, o: { remote?: string; pair?: string } = {}): string => `version: 1
defaults:
  retries: 0
remotes:
  gpu: ${sshRemote(host, lab.outside('gpu')).replace(/ }$/, `${o.remote ? `, ${o.remote}` : ''} }`)}
data:
  - name: raw
    local: raw
    remote: "gpu:raw"
${o.pair ?? ''}`;

describe.skipIf(!sshdAvailable())('the ssh connection kept between runs', () => {
  let host: SshHost;
  const labs: Lab[] = [];
  beforeAll(async () => {
    host = await startSshd(join(new Lab('labsync-persist-sshd-').root, 'sshd'));
  });
  afterAll(async () => {
    await stopSshd(host);
    // A kept master dies with its host's sessions: nothing of these labs outlives the file.
    await until('every kept connection to end with its host', () => labs.every((lab) => keptMasters(lab.root).length === 0));
  });
  const logins = (): number => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
  // A short cache folder: the lab's HOME under the test run's temp folder can be too deep for a unix socket.
  const socketDir = (lab: Lab): string => join(lab.outside('c'), 'labsync', 'ssh');
  const sockets = (lab: Lab): string[] => (existsSync(socketDir(lab)) ? readdirSync(socketDir(lab)) : []);

  function newLab(o: { remote?: string; pair?: string } = {}, h: SshHost = host): Lab {
    const lab = new Lab('labsync-persist-');
    lab.env.XDG_CACHE_HOME = lab.outside('c');
    labs.push(lab);
    lab.manifest(manifest(h, lab, o));
    lab.write(lab.path('raw/a.txt'), 'alpha');
    lab.write(lab.path('raw/sub/b.txt'), 'beta');
    return lab;
  }

  async function runs(lab: Lab, verbs: string[][], env: Record<string, string> = {}): Promise<number> {
    const before = logins();
    for (const args of verbs) {
      const r = await lab.cli([...args, '--json'], { env });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(json<Doc>(r).pairs[0]?.verify?.status).toBe('in_sync');
    }
    return logins() - before;
  }

  it('(a) two pushes and a check within the window: one login, one socket, one master that outlives the runs', async () => {
    const lab = newLab();
    const trace = { LABSYNC_TRACE: '1' };
    expect(await runs(lab, [['data', 'push']], trace)).toBe(1);
    lab.write(lab.path('raw/a.txt'), 'alpha, again');
    const before = logins();
    // The session started early (bin/labsync.js replays the command the last run recorded) rides the
    // kept connection, and is taken: the engine's command is the same, for a push and for the check
    // after it (the same cipher, the same socket).
    for (const args of [['data', 'push'], ['check'], ['data', 'push']]) {
      const r = await lab.cli([...args, '--json'], { env: trace });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(json<Doc>(r).pairs[0]?.verify?.status).toBe('in_sync');
      expect(r.stderr).toContain('ssh taken (early)');
    }
    expect(logins() - before).toBe(0);
    expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha, again');
    expect(sockets(lab)).toHaveLength(1);
    expect(sockets(lab)[0]).toMatch(/^[0-9a-f]{20}$/);
    // The socket folder is this user's alone.
    expect(statSync(socketDir(lab)).mode & 0o777).toBe(0o700);
    expect(keptMasters(lab.root)).toHaveLength(1);
    // Nothing else of the runs is left: neither a client nor the host's side of a session.
    expect(processesMentioning(lab.outside('gpu'))).toEqual([]);
    // A master killed outright leaves its socket behind: the next run finds nobody there, removes it
    // and logs in (ssh's ControlMaster=auto), and its connection is the one kept now.
    const [master] = keptMasters(lab.root);
    process.kill((master as { pid: number }).pid, 'SIGKILL');
    await until('the killed master to be gone', () => keptMasters(lab.root).length === 0);
    expect(sockets(lab)).toHaveLength(1);
    expect(await runs(lab, [['data', 'push'], ['data', 'push']], trace)).toBe(1);
    expect(keptMasters(lab.root)).toHaveLength(1);
  });

  it('(a2) a mirror (its remote lock taken and released over ssh too) and a second pair on the same host share the one kept connection', async () => {
    const lab = newLab({ pair: '    delete: true\n  - name: more\n    local: more\n    remote: "gpu:more"\n' });
    lab.write(lab.path('more/c.txt'), 'gamma');
    // The first run's two pairs start at once, before either connection is up: a login each (one of
    // them becomes the kept master, the other goes on alone). Every run after it: none.
    expect(await runs(lab, [['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBeLessThanOrEqual(2);
    expect(await runs(lab, [['data', 'push'], ['check'], ['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBe(0);
    expect(sockets(lab)).toHaveLength(1);
  });

  it('(a3) no held session (LABSYNC_SSH_HOLD=0): rsync\'s own ssh, the listings and the hashing all ride the kept connection', async () => {
    const lab = newLab();
    const env = { LABSYNC_SSH_HOLD: '0', LABSYNC_EARLY_SSH: '0' };
    expect(await runs(lab, [['data', 'push']], env)).toBe(1);
    lab.write(lab.path('raw/a.txt'), 'alpha, again');
    lab.write(lab.path('raw/new.txt'), 'new');
    expect(await runs(lab, [['data', 'push'], ['check', '--full']], env)).toBe(0);
    expect(readFileSync(lab.outside('gpu', 'raw', 'new.txt'), 'utf8')).toBe('new');
  });

  it('(b) control_persist: 0 and LABSYNC_SSH_PERSIST=0: a login each run, no socket', async () => {
    const off = newLab({ remote: 'control_persist: 0' });
    expect(await runs(off, [['data', 'push'], ['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBe(2);
    expect(sockets(off)).toEqual([]);
    const env = newLab();
    expect(await runs(env, [['data', 'push'], ['data', 'push']], { LABSYNC_SSH_PERSIST: '0', LABSYNC_EARLY_SSH: '0' })).toBe(2);
    expect(sockets(env)).toEqual([]);
    expect(keptMasters(off.root)).toEqual([]);
    expect(keptMasters(env.root)).toEqual([]);
    // A duration of its own is what the master is told.
    const short = newLab({ remote: 'control_persist: 5m' });
    const plan = await short.cli(['plan']);
    expect(plan.stdout).toContain('ControlPersist=300');
  });

  it('(c) the user\'s own ControlPath in ssh_options: labsync adds nothing, their socket is used and ours never made', async () => {
    const theirs = join(new Lab('labsync-persist-theirs-').root, 'cm');
    mkdirSync(theirs, { recursive: true, mode: 0o700 });
    const lab = newLab({ remote: `ssh_options: ["ControlMaster=auto", "ControlPath=${theirs}/m-%p", "ControlPersist=30"]` });
    expect(await runs(lab, [['data', 'push'], ['data', 'push']])).toBe(1);
    expect(readdirSync(theirs)).toHaveLength(1);
    expect(sockets(lab)).toEqual([]);
    const plan = await lab.cli(['plan']);
    expect(plan.stdout).not.toContain(socketDir(lab));
    // Theirs, stopped by them: here, its host's sessions end it.
    const master = processesMentioning(theirs)[0];
    if (master) process.kill(master.pid, 'SIGTERM');
  });

  it('(d) a socket folder others may write in: not used, said at -v and by doctor, and every run logs in', async () => {
    const lab = newLab();
    const dir = socketDir(lab);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o770);
    const before = logins();
    const r = await lab.cli(['data', 'push', '-v'], { env: { LABSYNC_EARLY_SSH: '0' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`ssh connections are not kept between runs: ${dir} is writable by group or others`);
    expect(await runs(lab, [['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBe(1);
    expect(logins() - before).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    expect(keptMasters(lab.root)).toEqual([]);
    const doctor = await lab.cli(['doctor']);
    expect(doctor.stdout).toMatch(/ssh connection to .* not kept: .* is writable by group or others/);
    chmodSync(dir, 0o700);
    const fixed = await lab.cli(['doctor']);
    expect(fixed.stdout).toMatch(new RegExp(`ssh connection to .* kept 60s after a run \\(sockets in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    // A kept connection and its hint; then the folder turns writable by others: the session the hint
    // names (it rides the socket there) is not even started early, and the run logs in on its own.
    const trace = { LABSYNC_TRACE: '1' };
    expect((await lab.cli(['data', 'push'], { env: trace })).exitCode).toBe(0);
    expect((await lab.cli(['data', 'push'], { env: trace })).stderr).toContain('ssh sessions started early: 1');
    expect(readdirSync(dir)).toHaveLength(1);
    chmodSync(dir, 0o770);
    const l = logins();
    const unsafe = await lab.cli(['data', 'push'], { env: trace });
    expect(unsafe.exitCode, unsafe.stderr).toBe(0);
    expect(unsafe.stderr).toContain('ssh sessions started early: 0');
    expect(logins() - l).toBe(1);
  });

  it('(d2) a cache folder too deep for a unix socket path: no kept connection (said at -v), never a socket moved elsewhere', async () => {
    const lab = newLab();
    lab.env.XDG_CACHE_HOME = lab.outside('c', 'a-cache-folder-deep-enough-that-a-socket-in-it-would-not-fit-in-sun-path');
    const before = logins();
    const r = await lab.cli(['data', 'push', '-v'], { env: { LABSYNC_EARLY_SSH: '0' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ssh connections are not kept between runs: a socket in .* would be longer than a unix socket path may be/);
    expect(await runs(lab, [['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBe(1);
    expect(logins() - before).toBe(2);
    expect(keptMasters(lab.root)).toEqual([]);
    expect((await lab.cli(['plan'])).stdout).not.toContain('ControlPath');
  });

  it('(e) the host dies while its connection is kept: the master ends with it, the next run fails as an unreachable host does, and a run after the host is back logs in anew', async () => {
    let own = await startSshd(join(new Lab('labsync-persist-dying-').root, 'sshd'));
    try {
      const lab = newLab({}, own);
      const ownLogins = (): number => (readFileSync(join(own.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
      expect((await lab.cli(['data', 'push', '--json'])).exitCode).toBe(0);
      expect(keptMasters(lab.root)).toHaveLength(1);
      await stopSshd(own);
      await until('the kept master to end with its host', () => keptMasters(lab.root).length === 0);
      const dead = await lab.cli(['data', 'push', '--json']);
      expect(dead.exitCode).toBe(1);
      expect(json<Doc>(dead).pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/connection refused/i) });
      own = await restartSshd(own);
      const before = ownLogins();
      lab.write(lab.path('raw/a.txt'), 'alpha, after the host came back');
      const back = await lab.cli(['data', 'push', '--json']);
      expect(back.exitCode, back.stderr).toBe(0);
      expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha, after the host came back');
      expect(ownLogins() - before).toBe(1);
      expect(keptMasters(lab.root)).toHaveLength(1);
    } finally {
      await stopSshd(own);
    }
  });

  it('(e2) the host hangs while its connection is kept (its sessions stopped, its listener up): the master\'s keepalives drop it, and the next run ends over a new connection', async () => {
    const own = await startSshd(join(new Lab('labsync-persist-hung-').root, 'sshd'));
    const stopped: number[] = [];
    try {
      // stall_timeout 2s: keepalives every second, three missed drop the connection (adapters/bounds.ts).
      const lab = newLab({ pair: '    stall_timeout: 2s\n' }, own);
      const ownLogins = (): number => (readFileSync(join(own.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
      expect((await lab.cli(['data', 'push', '--json'])).exitCode).toBe(0);
      const [master] = keptMasters(lab.root);
      expect(master).toBeDefined();
      for (const e of readdirSync('/proc')) {
        const pid = Number(e);
        if (/^\d+$/.test(e) && pid !== own.pid && descendsFrom(pid, own.pid)) {
          process.kill(pid, 'SIGSTOP');
          stopped.push(pid);
        }
      }
      expect(stopped.length).toBeGreaterThan(0);
      lab.write(lab.path('raw/a.txt'), 'alpha, while the host hung');
      const before = ownLogins();
      const r = await lab.cli(['data', 'push', '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha, while the host hung');
      // The hung master is gone; the run's new connection is the one kept now.
      expect(keptMasters(lab.root).map((p) => p.pid)).not.toContain(master?.pid);
      expect(ownLogins() - before).toBe(1);
    } finally {
      // Each was stopped by this test (so still alive, the same process): let go, they find their connection gone.
      for (const pid of stopped) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // ended meanwhile
        }
      }
      await stopSshd(own);
    }
  });

  it('(h) an ssh config or known_hosts edited while a connection is kept: the next run never rides the master made before the edit', async () => {
    const lab = newLab();
    // Each run's own logins only: a session started early from the last run's hint would log in too.
    lab.env.LABSYNC_EARLY_SSH = '0';
    // The lab's own copies of the host's ssh config and known_hosts, named by the manifest.
    const config = lab.outside('ssh_config');
    const known = lab.outside('known_hosts');
    writeFileSync(config, readFileSync(host.sshConfig));
    writeFileSync(known, readFileSync(host.knownHosts));
    lab.manifest(manifest({ ...host, sshConfig: config, knownHosts: known }, lab));
    expect(await runs(lab, [['data', 'push']])).toBe(1);
    expect(keptMasters(lab.root)).toHaveLength(1);

    // The config now sends this host elsewhere (nothing listens on 127.0.0.2): the run goes there and fails
    // there, instead of riding the master to the old address (ssh's mux client never reads the config again).
    writeFileSync(config, `Host 127.0.0.1\n  HostName 127.0.0.2\n${readFileSync(host.sshConfig, 'utf8')}`);
    lab.write(lab.path('raw/a.txt'), 'alpha 2');
    const moved = await lab.cli(['data', 'push', '--json']);
    expect(moved.exitCode, moved.stdout).toBe(1);
    expect(json<Doc>(moved).pairs[0]?.error).toMatch(/connection refused/i);
    expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha');

    // Back as it was (the first master still up), then the host's key in known_hosts replaced (a rebuilt
    // or impostor host): the run checks the key again and refuses, nothing sent.
    writeFileSync(config, readFileSync(host.sshConfig));
    expect(await runs(lab, [['data', 'push']])).toBe(0);
    const other = lab.outside('other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    writeFileSync(known, `[127.0.0.1]:${host.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    lab.write(lab.path('raw/a.txt'), 'alpha 3');
    const rekeyed = await lab.cli(['data', 'push', '--json']);
    expect(rekeyed.exitCode, rekeyed.stdout).toBe(1);
    expect(json<Doc>(rekeyed).pairs[0]?.error).toMatch(/host key/i);
    expect(readFileSync(lab.outside('gpu', 'raw', 'a.txt'), 'utf8')).toBe('alpha 2');
  });

  it('(g) commands that open no ssh connection (status, validate, receipts, schedule) make no socket folder; a push then does', async () => {
    const lab = newLab();
    for (const args of [['status'], ['validate'], ['receipts'], ['schedule'], ['status', '-v']]) {
      const r = await lab.cli(args, { env: { LABSYNC_EARLY_SSH: '0' } });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(existsSync(socketDir(lab))).toBe(false);
    expect(await runs(lab, [['data', 'push']], { LABSYNC_EARLY_SSH: '0' })).toBe(1);
    expect(sockets(lab)).toHaveLength(1);
  });

  it('(f) a control_persist that is not a duration: validate names the file and line', async () => {
    const lab = newLab({ remote: 'control_persist: soon' });
    const r = await lab.cli(['validate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/labsync\.yaml:5:\d+ .*control_persist.*must be a duration like 60s or 10m, or 0/);
  });
});
