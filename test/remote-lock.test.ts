// The lock at the remote (issue 16), against every kind that holds one: a local remote, the loopback
// ssh host, moto and versitygw. Two checkouts (two temp folders, one manifest, two LABSYNC_HOST_IDs) stand
// for two machines. A `before` hook that waits for a file holds a run inside its lock for as long as a
// test needs: no sleeps, no timed assertions.
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab, type CliResult } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { sshRemote } from './harness/sshd.js';
import { until } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

const ssh = inject('sshHost');
const moto = inject('s3');
const vgw = inject('versitygw');

interface Kind {
  readonly name: string;
  readonly skip: boolean;
  /** A fresh shared remote: its `remotes:` entry and how to look at it behind labsync's back. */
  make(lab: Lab): Promise<{ remote: string; lock(): Promise<string | undefined>; files(): Promise<string[]> }>;
}

const onDisk = (dir: string) => ({
  lock: async () => (existsSync(join(dir, 'ds', '.labsync-lock')) ? 'held' : undefined),
  files: async () => (existsSync(join(dir, 'ds')) ? readdirSync(join(dir, 'ds')).sort() : []),
});

function s3Kind(name: string, server: S3Server | null): Kind {
  return {
    name, skip: !server,
    async make(lab) {
      const s = server as S3Server;
      const bucket = await makeBucket(s, lab.env);
      const get = async (): Promise<string | undefined> => {
        try {
          return await awsCli(s, lab.env, ['s3', 'cp', `s3://${bucket}/lab/ds/.labsync-lock`, '-']);
        } catch {
          return undefined;
        }
      };
      const files = async (): Promise<string[]> =>
        (await awsCli(s, lab.env, ['s3', 'ls', `s3://${bucket}/lab/ds/`])).trim().split('\n').filter(Boolean).map((l) => l.slice(31)).sort();
      return { remote: `{ type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${s.endpoint}" }`, lock: get, files };
    },
  };
}

const KINDS: Kind[] = [
  { name: 'local remote', skip: false, async make() { const dir = tempDir('labsync-nas-'); return { remote: `{ type: local, path: ${dir} }`, ...onDisk(dir) }; } },
  { name: 'ssh host', skip: !ssh, async make() { const dir = tempDir('labsync-sshnas-'); return { remote: sshRemote(ssh!, dir), ...onDisk(dir) }; } },
  s3Kind('moto', moto),
  s3Kind('versitygw', vgw),
];

/** Two checkouts of one manifest: a mirror pair `ds` whose before hook waits for `<gate>/go`. */
function machines(remote: string, extra = ''): { a: Lab; b: Lab; gate: string; open(): void } {
  const gate = tempDir('labsync-gate-');
  const text = `version: 1
defaults:
  retries: 0
remotes:
  store: ${remote}
data:
  - name: ds
    local: data
    remote: store:ds
    delete: true
    stall_timeout: 5s
    hooks:
      before: ["sh", "-c", "touch in-hook; while [ ! -e ${gate}/go ]; do sleep 0.05; done"]
${extra}`;
  const make = (host: string): Lab => {
    const lab = new Lab().manifest(text);
    Object.assign(lab.env, S3_KEYS, { LABSYNC_HOST_ID: host });
    lab.write(lab.path('data/a.txt'), `a from ${host}`).write(lab.path('data/b.txt'), 'b');
    return lab;
  };
  return { a: make('gpu-a'), b: make('gpu-b'), gate, open: () => writeFileSync(join(gate, 'go'), '') };
}

const inHook = (lab: Lab): boolean => existsSync(lab.path('in-hook'));
const pairOf = (r: CliResult) => json<{ pairs: { status: string; error: string | null; commands: string[]; files: number }[] }>(r).pairs[0];

for (const kind of KINDS) {
  describe.skipIf(kind.skip)(`remote lock: ${kind.name}`, () => {
    it('two machines run one pair at once: exactly one transfers, the other exits 75 naming the holder; the lock goes with the run', async () => {
      const r = await kind.make(new Lab());
      const m = machines(r.remote);
      const runs = [m.a, m.b].map((lab) => lab.spawn(['data', 'push', '--json']));
      // The loser returns on its own; the winner waits in its hook until the gate opens.
      const first = await Promise.race(runs.map((p, i) => p.then((x) => ({ i, x }))));
      expect(first.x.exitCode, String(first.x.stderr)).toBe(75);
      const winner = first.i === 0 ? m.b : m.a;
      const loser = first.i === 0 ? m.a : m.b;
      expect(inHook(winner) && !inHook(loser)).toBe(true);
      const lost = pairOf({ exitCode: 75, stdout: String(first.x.stdout), stderr: '', durationMs: 0 });
      expect(lost?.status).toBe('locked');
      expect(lost?.error).toMatch(new RegExp(`^locked by ${winner === m.a ? 'gpu-a' : 'gpu-b'} \\(pid \\d+\\) since \\d\\d:\\d\\d, lease until \\d\\d:\\d\\d`));
      expect(lost?.commands).toEqual([]);
      expect(await r.lock()).toBeDefined();
      m.open();
      const won = await runs[1 - first.i]!;
      expect(won.exitCode, String(won.stderr)).toBe(0);
      expect(await r.files()).toEqual(['a.txt', 'b.txt']);
      expect(await r.lock()).toBeUndefined();
    });

    it('a holder killed with SIGKILL: the other is refused while the lease runs, and takes over only once it ran out, with a warning', async () => {
      const r = await kind.make(new Lab());
      // Killed inside its lock, with a lease of `seconds`; the orphaned hook is let go after.
      const killHolder = async (seconds: string): Promise<void> => {
        const k = machines(r.remote);
        const held = k.a.spawn(['data', 'push'], { env: { LABSYNC_LOCK_LEASE: seconds } });
        await until('the holder inside its lock', () => inHook(k.a));
        held.kill('SIGKILL');
        await held;
        k.open();
        expect(await r.lock()).toBeDefined();
      };
      const m = machines(r.remote);
      m.open();
      // A lease no test outlives: the refusal cannot depend on how loaded the machine is.
      await killHolder('600');
      const refused = await m.b.cli(['data', 'push', '--json']);
      expect(refused.exitCode, refused.stderr).toBe(75);
      expect(pairOf(refused)?.error).toMatch(/^locked by gpu-a \(pid \d+\) since \d\d:\d\d, lease until/);
      expect((await m.b.cli(['unlock', 'ds', '--force'])).exitCode).toBe(0);
      // A short lease: --wait polls until it runs out, then takes over; the warning shows it had run out.
      await killHolder('2');
      const took = await m.b.cli(['data', 'push', '--wait', '60']);
      expect(took.exitCode, took.stderr + took.stdout).toBe(0);
      expect(took.stdout + took.stderr).toMatch(/took over the lock at \S+: locked by gpu-a \(pid \d+\) since \d\d:\d\d, lease ran out at/);
      expect(await r.files()).toEqual(['a.txt', 'b.txt']);
      expect(await r.lock()).toBeUndefined();
    });

    it('a machine whose clock runs 5 minutes ahead (no NTP) is refused while the holder\'s lease runs, by the remote\'s own clock', async () => {
      const r = await kind.make(new Lab());
      const m = machines(r.remote);
      const held = m.a.spawn(['data', 'push'], { env: { LABSYNC_LOCK_LEASE: '60' } });
      await until('the holder inside its lock', () => inHook(m.a));
      // Every Date in gpu-b's labsync runs 5 minutes ahead: by leaseUntil alone, a live lock looked run out.
      const skew = tempDir('labsync-skew-');
      writeFileSync(join(skew, 'ahead.cjs'), 'const D = Date; const off = 300000; class S extends D { constructor(...a) { if (a.length === 0) super(D.now() + off); else super(...a); } static now() { return D.now() + off; } } globalThis.Date = S;\n');
      // gpu-b's hook does not wait: a lock wrongly taken over ends its run (exit 0) instead of holding the test.
      m.b.manifest(readFileSync(m.b.path('labsync.yaml'), 'utf8').replace(/^    hooks:\n.*\n/m, ''));
      const refused = await m.b.cli(['data', 'push', '--json'], { env: { NODE_OPTIONS: `--require ${join(skew, 'ahead.cjs')}` } });
      expect(refused.exitCode, refused.stderr + refused.stdout).toBe(75);
      expect(pairOf(refused)?.status).toBe('locked');
      m.open();
      expect((await held).exitCode).toBe(0);
      expect(await r.lock()).toBeUndefined();
    });

    it('a lock left behind is never pulled, counted by the verifier, or deleted by a mirror', async () => {
      const r = await kind.make(new Lab());
      const m = machines(r.remote);
      m.open();
      expect((await m.a.cli(['data', 'push'])).exitCode).toBe(0);
      // A holder gone without releasing (SIGKILL), its lease long: only `remote_lock: false` runs pass it.
      const k = machines(r.remote);
      const held = k.a.spawn(['data', 'push'], { env: { LABSYNC_LOCK_LEASE: '600' } });
      await until('the holder inside its lock', () => inHook(k.a));
      held.kill('SIGKILL');
      await held;
      k.open();
      const off = machines(r.remote, '    remote_lock: false\n');
      off.open();
      const check = await off.a.cli(['check', '--json']);
      expect(pairOf(check)?.status, check.stdout).toBe('in_sync');
      // Into a folder without a.txt: a same-size local copy is the verifier's business, not this test's.
      unlinkSync(off.b.path('data/a.txt'));
      const pulled = await off.b.cli(['data', 'pull']);
      expect(pulled.exitCode, pulled.stderr).toBe(0);
      expect(existsSync(off.b.path('data/.labsync-lock'))).toBe(false);
      // A mirror that deletes one of two files (max_delete: 1): the lock is neither deleted nor counted.
      const mirror = machines(r.remote, '    remote_lock: false\n    max_delete: 1\n');
      mirror.open();
      unlinkSync(mirror.a.path('data/b.txt'));
      const pushed = await mirror.a.cli(['data', 'push', '--json']);
      expect(pushed.exitCode, pushed.stdout).toBe(0);
      expect(await r.files()).toEqual(['.labsync-lock', 'a.txt']);
      expect(await r.lock()).toBeDefined();
      // unlock: without a terminal it needs --force (exit 2), then says whose it was and removes it.
      const asked = await m.b.cli(['unlock', 'ds']);
      expect(asked.exitCode).toBe(2);
      expect(asked.stderr).toMatch(/locked by gpu-a \(pid \d+\)[\s\S]*--force/);
      expect(await r.lock()).toBeDefined();
      const forced = await m.b.cli(['unlock', 'ds', '--force']);
      expect(forced.exitCode, forced.stderr).toBe(0);
      expect(forced.stderr).toMatch(/locked by gpu-a \(pid \d+\)[\s\S]*removed the lock/);
      expect(await r.lock()).toBeUndefined();
    });

    it('released on every way out labsync controls: a failed hook, SIGINT, SIGTERM, a guard refusal', async () => {
      const r = await kind.make(new Lab());
      // A failing before hook: the pair fails (exit 1), the lock goes.
      const failing = machines(r.remote).a;
      failing.manifest(readFileSync(failing.path('labsync.yaml'), 'utf8').replace(/before: \[.*\]/, 'before: ["false"]'));
      const failed = await failing.cli(['data', 'push']);
      expect(failed.exitCode).toBe(1);
      expect(await r.lock()).toBeUndefined();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const m = machines(r.remote);
        const p = m.a.spawn(['data', 'push']);
        await until('the run inside its lock', () => inHook(m.a));
        expect(await r.lock()).toBeDefined();
        p.kill(signal);
        m.open();
        expect((await p).exitCode).toBe(130);
        expect(await r.lock(), signal).toBeUndefined();
      }
      // A mirror that would delete more than max_delete: refused (exit 3), the lock goes.
      const m = machines(r.remote, '    max_delete: 0\n');
      m.open();
      expect((await m.a.cli(['data', 'push'])).exitCode).toBe(0);
      unlinkSync(m.a.path('data/b.txt'));
      const refused = await m.a.cli(['data', 'push']);
      expect(refused.exitCode, refused.stderr).toBe(3);
      expect(await r.lock()).toBeUndefined();
    });
  });
}

describe('remote lock: renewal', () => {
  it('the holder renews its lease while it runs: past two leases, another machine is still refused', async () => {
    const nas = tempDir('labsync-nas-');
    const m = machines(`{ type: local, path: ${nas} }`);
    const lease = { LABSYNC_LOCK_LEASE: '3' };
    const held = m.a.spawn(['data', 'push'], { env: lease });
    const holder = join(nas, 'ds', '.labsync-lock', 'holder');
    await until('the holder inside its lock', () => inHook(m.a) && existsSync(holder));
    // Counted, not timed: the lease end written by each renewal, until it has moved six times: two leases' worth.
    const first = JSON.parse(readFileSync(holder, 'utf8')) as { leaseUntil: string; token: string };
    const seen = new Set([first.leaseUntil]);
    await until('six renewals (two leases)', () => {
      try {
        const h = JSON.parse(readFileSync(holder, 'utf8')) as { leaseUntil: string; token: string };
        expect(h.token).toBe(first.token);
        seen.add(h.leaseUntil);
      } catch (error) {
        if (!(error instanceof SyntaxError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      return seen.size >= 7;
    }, 60_000);
    const refused = await m.b.cli(['data', 'push', '--json'], { env: lease });
    expect(refused.exitCode, refused.stderr).toBe(75);
    m.open();
    expect((await held).exitCode).toBe(0);
    expect(existsSync(join(nas, 'ds', '.labsync-lock'))).toBe(false);
  });
});

describe('remote lock: the same machine', () => {
  it('a holder on this host killed with SIGKILL is taken over at once by the next run here (its PID is gone), with a warning; another host still waits for the lease', async () => {
    const nas = tempDir('labsync-nas-');
    const m = machines(`{ type: local, path: ${nas} }`);
    const held = m.a.spawn(['data', 'push'], { env: { LABSYNC_LOCK_LEASE: '600' } });
    await until('the holder inside its lock', () => inHook(m.a) && existsSync(join(nas, 'ds', '.labsync-lock', 'holder')));
    held.kill('SIGKILL');
    await held;
    m.open();
    const other = await m.b.cli(['data', 'push', '--json']);
    expect(other.exitCode, other.stderr).toBe(75);
    const again = await m.a.cli(['data', 'push']);
    expect(again.exitCode, again.stderr + again.stdout).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/took over the lock at \S+: its process on this host is no longer running \(locked by gpu-a \(pid \d+\)/);
    expect(readdirSync(join(nas, 'ds')).sort()).toEqual(['a.txt', 'b.txt']);
  });
});

describe('remote lock: lost', () => {
  it('a holder whose lock is removed under it (unlock --force) stops at its next renewal: exit 1, nothing sent', async () => {
    const nas = tempDir('labsync-nas-');
    const m = machines(`{ type: local, path: ${nas} }`);
    const held = m.a.spawn(['data', 'push', '--json'], { env: { LABSYNC_LOCK_LEASE: '3' } });
    await until('the holder inside its lock', () => inHook(m.a) && existsSync(join(nas, 'ds', '.labsync-lock', 'holder')));
    const forced = await m.b.cli(['unlock', 'ds', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    const r = await held;
    m.open();
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(pairOf({ exitCode: 1, stdout: String(r.stdout), stderr: '', durationMs: 0 })?.error).toMatch(/^stopped: another run took over the lock at \S+\.labsync-lock/);
    expect(String(r.stderr)).toMatch(/lost the lock at .*stopping/);
    expect(existsSync(join(nas, 'ds', 'a.txt'))).toBe(false);
  });
});

type Proxied = { endpoint: string; close: () => void };

/** moto behind a loopback proxy: `intercept` answers a request itself (true) or changes its headers before it is passed on. */
async function proxied(server: S3Server, intercept: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean): Promise<Proxied> {
  const http = await import('node:http');
  const proxy = http.createServer((req, res) => {
    if (intercept(req, res)) return;
    const out = http.request({ host: '127.0.0.1', port: server.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  return { endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, close: () => void proxy.close() };
}

/**
 * A proxy that refuses (403 AccessDenied, as S3 answers credentials without s3:PutObject) every write
 * of a lock object and passes everything else through: a bucket these credentials may read but not
 * write. (moto's own IAM enforcement rejects aws-cli's signed listings of a prefix, so the refusal is
 * put in front of it.)
 */
async function readOnlyLocks(server: S3Server): Promise<Proxied & { refused: () => number }> {
  let refused = 0;
  const p = await proxied(server, (req, res) => {
    if (req.method !== 'PUT' || !(req.url ?? '').split('?')[0]?.endsWith('/.labsync-lock')) return false;
    refused += 1;
    req.resume();
    res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    return true;
  });
  return { ...p, refused: () => refused };
}

describe.skipIf(!moto)('remote lock: a bucket these credentials may read but not write (moto behind a proxy refusing lock writes)', () => {
  it('a pull goes on without the lock, saying so; a push fails at once (not retried), nothing sent', async () => {
    const server = moto as S3Server;
    const ro = await readOnlyLocks(server);
    try {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      await awsCli(server, lab.env, ['s3api', 'put-object', '--bucket', bucket, '--key', 'p/ds/shared.csv', '--body', '/etc/hostname']);
      lab.manifest(`version: 1\ndefaults: { retries: 3, retry_delay: 1s }\nremotes:\n  st: { type: s3, bucket: ${bucket}, prefix: p, endpoint: "${ro.endpoint}" }\ndata:\n  - { name: ds, local: data, remote: "st:ds", remote_lock: true }\n`);
      Object.assign(lab.env, S3_KEYS);
      const pull = await lab.cli(['data', 'pull', '--json']);
      expect(pull.exitCode, pull.stdout + pull.stderr).toBe(0);
      expect(pull.stderr).toContain('HTTP 403 AccessDenied: these credentials may not write the lock; this pull reads without it');
      expect(existsSync(lab.path('data/shared.csv'))).toBe(true);
      expect(ro.refused()).toBe(1);

      lab.write(lab.path('data/new.csv'), 'new\n');
      const push = await lab.cli(['data', 'push', '--json']);
      expect(push.exitCode).toBe(1);
      expect(pairOf(push)).toMatchObject({ status: 'failed', attempts: 1, commands: [] });
      expect(pairOf(push)?.error).toMatch(/HTTP 403 AccessDenied: these credentials may not write there; nothing was run/);
      expect(ro.refused()).toBe(2);
      expect(await awsCli(server, lab.env, ['s3', 'ls', `s3://${bucket}/p/ds/`])).not.toContain('new.csv');
    } finally {
      ro.close();
    }
  });
});

describe.skipIf(!moto)('remote lock: a store that ignores conditional writes (moto behind a proxy dropping If-None-Match and If-Match)', () => {
  it('holds no lock there, says so, and goes on; a lock another run left is never written over; the probe key is removed', async () => {
    const server = moto as S3Server;
    const ignoring = await proxied(server, (req) => {
      delete req.headers['if-none-match'];
      delete req.headers['if-match'];
      return false;
    });
    try {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      lab.manifest(`version: 1\ndefaults: { retries: 0 }\nremotes:\n  st: { type: s3, bucket: ${bucket}, prefix: p, endpoint: "${ignoring.endpoint}" }\ndata:\n  - { name: ds, local: data, remote: "st:ds", delete: true }\n`);
      Object.assign(lab.env, S3_KEYS);
      lab.write(lab.path('data/a.csv'), 'a\n');
      const push = await lab.cli(['data', 'push', '--json']);
      expect(push.exitCode, push.stdout + push.stderr).toBe(0);
      expect(push.stderr).toMatch(/ignores If-None-Match \(conditional writes\), so it cannot hold a lock/);
      const keys = await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/`]);
      expect(keys).toContain('p/ds/a.csv');
      expect(keys).not.toMatch(/labsync-lock/);

      // Another machine's live lock (as a store that honours the headers would have let it take): read, never overwritten.
      const other = { host: 'elsewhere', user: 'them', pid: 1, version: '0.0.0', command: 'data push', startedAt: new Date().toISOString(), leaseUntil: new Date(Date.now() + 3_600_000).toISOString(), token: 'other-machine' };
      lab.write(lab.outside('their-lock.json'), JSON.stringify(other));
      await awsCli(server, lab.env, ['s3api', 'put-object', '--bucket', bucket, '--key', 'p/ds/.labsync-lock', '--body', lab.outside('their-lock.json')]);
      lab.write(lab.path('data/b.csv'), 'b\n');
      const locked = await lab.cli(['data', 'push', '--json']);
      expect(locked.exitCode).toBe(75);
      expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/p/ds/.labsync-lock`, '-'])).toContain('other-machine');
      expect(await awsCli(server, lab.env, ['s3', 'ls', `s3://${bucket}/p/ds/`])).not.toContain('b.csv');
    } finally {
      ignoring.close();
    }
  });
});

describe('remote lock: failures', () => {
  it('an S3 server that accepts and never answers fails the lock within the pair\'s bound; nothing runs', async () => {
    const { createServer } = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const server = createServer((s) => void held.push(s));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    try {
      const lab = new Lab().manifest(`version: 1
defaults: { retries: 0 }
remotes:
  store: { type: s3, bucket: b, region: us-east-1, endpoint: "http://127.0.0.1:${port}" }
data:
  - { name: ds, local: data, remote: store:ds, delete: true, stall_timeout: 2s }
`);
      Object.assign(lab.env, S3_KEYS);
      lab.write(lab.path('data/a.txt'), 'a');
      const r = await lab.cli(['data', 'push', '--json']);
      expect(r.exitCode).toBe(1);
      expect(pairOf(r)).toMatchObject({ status: 'failed', commands: [] });
      expect(pairOf(r)?.error).toMatch(/could not take the lock at s3:\/\/b\/ds\/\.labsync-lock \((GET|PUT) .*no answer in 2000 ms\); nothing was run/);
      expect(held.length).toBeGreaterThanOrEqual(1);
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  it('rclone remotes fall back to the local lock: validate says so, a run that asked warns', async () => {
    const dir = tempDir('labsync-rc-');
    const lab = new Lab().manifest(`version: 1
remotes:
  gd: { type: rclone, remote: gd, config: { type: local } }
data:
  - { name: ds, local: data, remote: "gd:${dir}", remote_lock: true }
`);
    lab.write(lab.path('data/a.txt'), 'a');
    const v = await lab.cli(['validate']);
    expect(v.exitCode).toBe(0);
    expect(v.stderr).toMatch(/warning: data\.ds: remote_lock: rclone remote 'gd' offers no conditional write/);
    const run = await lab.cli(['data', 'push']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/remote_lock: rclone remote 'gd' offers no conditional write labsync can use; only the local lock/);
  });

  it('remote_lock on a git pair is a manifest error naming where', async () => {
    const lab = new Lab().manifest(`version: 1
code:
  - { name: repo, local: ., remote: origin, remote_lock: true }
`);
    const v = await lab.cli(['validate']);
    expect(v.exitCode).toBe(2);
    expect(v.stderr).toMatch(/labsync\.yaml:3:\d+ code\.repo: remote_lock: a lock at the remote is taken by rsync, rclone and aws pairs/);
  });
});
