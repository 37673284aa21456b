// Nothing lost under faults (issue 7): real faults injected into real tools and servers on 127.0.0.1.
// Each case asserts the exit code, the pair's status, the destination's exact contents, that no
// process is left behind, and what the user is told.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { coldLab, Lab } from './harness/lab.js';
import { awsCli, S3_KEYS, startMoto, stopMoto } from './harness/moto.js';
import { processesLeft, processesMentioning } from './harness/processes.js';
// processesLeft: a kept ssh connection's master (ssh: <socket> [mux]) outlives a run by design (engine/ssh-keep.ts).
import type { SshHost } from './harness/sshd.js';
import { until } from './harness/wait.js';
import { pushWhileServerDies, rcloneToBucket } from './harness/s3-faults.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'labsync.js');
// null only off CI on a machine without sshd (global-setup fails a CI run instead): these cases then skip.
const ssh = inject('sshHost');
// null only off CI on a machine without moto_server (global-setup fails a CI run instead): these cases then skip.
const s3 = inject('s3');
// Disk-full needs a tmpfs in a private mount namespace, which needs root (CI runs as root).
const root = process.getuid?.() === 0;
type Pair = { status: string; error: string | null; attempts: number; warnings: string[]; verify: { status: string; changed: string[] } | null; commands: string[] };
const pairOf = (r: { stdout: string }): Pair => (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs[0] as Pair;

function folderLab(tool: string, options = ''): Lab {
  const lab = new Lab();
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    tool: ${tool}\n    local: raw\n    remote: nas:raw\n    delete: true\n${options}`);
  for (let i = 0; i < 10; i++) lab.write(lab.path('raw', `f${i}.csv`), `row ${i}\n`);
  return lab;
}

describe('faults', () => {
  it('1. a mirror from an empty or a missing source is refused (exit 3) and deletes nothing — rsync, rclone, aws', async () => {
    for (const tool of ['rsync', 'rclone', ...(s3 ? ['aws'] : [])]) {
      const lab = tool === 'aws' && s3
        ? (() => {
            const l = new Lab();
            l.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  st: { type: s3, bucket: any-bucket-name, prefix: p, endpoint: "${s3.endpoint}" }\ndata:\n  - name: raw\n    local: raw\n    remote: st:raw\n    delete: true\n`);
            return l;
          })()
        : folderLab(tool);
      if (tool !== 'aws') expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
      const before = tool !== 'aws' ? lab.tree(lab.outside('nas/raw')) : {};
      rmSync(lab.path('raw'), { recursive: true, force: true });
      const missing = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(missing.exitCode, tool).toBe(3);
      expect(pairOf(missing).error, tool).toMatch(/the source .*raw does not exist; refusing to mirror it/);
      lab.write(lab.path('raw/.x'), '');
      unlinkSync(lab.path('raw/.x'));
      const empty = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(empty.exitCode, tool).toBe(3);
      expect(pairOf(empty).error, tool).toMatch(/is empty; refusing to mirror it/);
      if (tool !== 'aws') expect(lab.tree(lab.outside('nas/raw')), tool).toEqual(before);
    }
  });

  it('2. a source that lost 90% of its files is refused by max_delete, with the counts', async () => {
    const lab = folderLab('rsync');
    await lab.cli(['data', 'push']);
    for (let i = 1; i < 10; i++) unlinkSync(lab.path('raw', `f${i}.csv`));
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode).toBe(3);
    expect(pairOf(r).error).toContain('would delete 9 of 10 files at the destination (90%), over max_delete 50%; nothing was deleted');
    expect(Object.keys(lab.tree(lab.outside('nas/raw')))).toHaveLength(10);
  });

  it.skipIf(!ssh)('3. a remote that is down before the start: bounded retries with backoff, exit 1, nothing deleted', async () => {
    const host = ssh as SshHost;
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  gpu: { type: ssh, host: 127.0.0.1, port: 1, user: ${host.user}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: /srv }\nmodels:\n  - { name: m, local: m, remote: "gpu:m", mode: pull, delete: true, retries: 2, retry_delay: 200ms }\n`);
    lab.write(lab.path('m/keep.ckpt'), 'mine');
    const r = await lab.cli(['models', 'pull', '--json']);
    expect(r.exitCode).toBe(1);
    expect(pairOf(r)).toMatchObject({ status: 'failed', attempts: 3, error: expect.stringContaining('Connection refused') });
    expect(r.durationMs).toBeGreaterThan(300); // two backoffs of at least 100 ms and 200 ms
    expect(r.stderr.match(/attempt \d failed .*; retrying/g)).toHaveLength(2);
    expect(lab.tree(lab.path('m'))).toEqual({ 'keep.ckpt': 'mine' });
  });

  it('4a. the S3 server killed mid-transfer: a transient failure, no partial object, and the next run completes and verifies', async () => {
    const lab = new Lab();
    let server = await startMoto(lab.root);
    try {
      const bucket = 'fault-bucket';
      const manifest = rcloneToBucket(bucket);
      const done = await pushWhileServerDies(lab, server, bucket, () => stopMoto(server));
      expect(done.exitCode).toBe(1);
      expect(pairOf({ stdout: String(done.stdout) })).toMatchObject({ status: 'failed', error: expect.stringMatching(/connection refused|EOF|connection reset/i) });
      expect(processesMentioning(lab.root)).toEqual([]);
      // The same address comes back (moto keeps nothing in memory across restarts: a fresh bucket).
      server = await startMoto(lab.root);
      await awsCli(server, lab.env, ['s3', 'mb', `s3://${bucket}`]);
      expect((await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/`])).trim()).toBe('');
      lab.manifest(manifest(server.endpoint));
      const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(again.exitCode, again.stdout).toBe(0);
      expect(pairOf(again)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    } finally {
      await stopMoto(server);
    }
  });

  it.skipIf(!ssh)('4b. the ssh connection killed mid-transfer: transient failure, no truncated file under its name, the next run completes', async () => {
    const host = ssh as SshHost;
    // Cold (no connection kept between runs): killing the client must cut the connection itself, not one
    // session riding a kept master.
    const lab = coldLab();
    const manifest = (extra: string): string => `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu: { type: ssh, host: 127.0.0.1, port: ${host.port}, user: ${host.user}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: ${lab.outside('remote')} }\nmodels:\n  - name: m\n    local: m\n    remote: "gpu:m"\n${extra}`;
    lab.manifest(manifest('    bwlimit: 300K\n'));
    lab.write(lab.path('m/big.ckpt'), randomBytes(3 * 1024 * 1024));
    const run = lab.spawn(['models', 'push', '--json']);
    await until('the transfer to start', () => existsSync(lab.outside('remote/m')));
    await new Promise((r) => setTimeout(r, 1200));
    // Cut this transfer's connection: the ssh client that this test's rsync started (found by parentage,
    // so transfers of other tests running at the same time are left alone).
    const rsync = processesMentioning(lab.path('m')).find((p) => p.cmdline.startsWith('rsync'));
    expect(rsync).toBeDefined();
    const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
    // rsync's own ssh, or (a transfer riding the listing's held session, engine/ssh-held.ts) labsync's.
    const client = processesMentioning('BatchMode=yes').filter((p) => p.cmdline.startsWith('ssh') && (parentOf(p.pid) === rsync?.pid || parentOf(p.pid) === run.pid));
    expect(client).toHaveLength(1);
    process.kill((client[0] as { pid: number }).pid, 'SIGKILL');
    const done = await run;
    expect(done.exitCode).toBe(1);
    expect(pairOf({ stdout: String(done.stdout) }).status).toBe('failed');
    expect(existsSync(lab.outside('remote/m/big.ckpt'))).toBe(false);
    // The host's side of a held session (its script names the folder) ends as sshd tears the dropped
    // connection down, a moment after labsync's own children are gone.
    await until('no process of this lab left, here or on the host', () => processesLeft(lab.root).length === 0, 5000);
    lab.manifest(manifest(''));
    const again = await lab.cli(['models', 'push', '--json']);
    expect(again.exitCode, again.stdout).toBe(0);
    expect(readFileSync(lab.outside('remote/m/big.ckpt')).equals(readFileSync(lab.path('m/big.ckpt')))).toBe(true);
  });

  it('5. a second Ctrl-C kills at once: exit 130, no child left', async () => {
    const lab = folderLab('rsync', '    bwlimit: 100K\n');
    lab.write(lab.path('raw/big.bin'), randomBytes(4 * 1024 * 1024));
    const run = lab.spawn(['data', 'push']);
    await until('the transfer', () => processesMentioning(lab.outside('nas')).some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes('--bwlimit')));
    const t = Date.now();
    run.kill('SIGINT');
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode).toBe(130);
    expect(Date.now() - t).toBeLessThan(3000);
    await until('children to be gone', () => processesLeft(lab.root).length === 0, 3000);
    expect(existsSync(lab.outside('nas/raw/big.bin'))).toBe(false);
  });

  it('6. labsync killed with SIGKILL: the next run takes the stale lock over, says so, and completes', async () => {
    // The destination is filled first: a kill inside rsync leaves its temp file (.big.bin.XXXXXX), which
    // the next mirror deletes as rsync --delete would; into an empty destination that one file would be
    // 100% of it, and the guard (rightly) refuses — not what this case is about.
    const lab = folderLab('rsync');
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    lab.manifest(`${readFileSync(lab.path('labsync.yaml'), 'utf8')}    bwlimit: 200K\n`);
    lab.write(lab.path('raw/big.bin'), randomBytes(2 * 1024 * 1024));
    const run = lab.spawn(['data', 'push']);
    await until('the lock', () => existsSync(lab.path('.labsync/locks/raw.lock')));
    run.kill('SIGKILL');
    await run.catch(() => undefined);
    for (const p of processesMentioning(lab.outside('nas'))) process.kill(p.pid, 'SIGKILL');
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    bwlimit: 200K\n', ''));
    const r = await lab.cli(['data', 'push']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`took over a stale lock from PID ${run.pid}`);
  });

  it('7. two runs of one pair at once: the second exits 75 at once (while the first still runs) and touches nothing', async () => {
    const lab = folderLab('rsync', '    bwlimit: 200K\n');
    lab.write(lab.path('raw/big.bin'), randomBytes(2 * 1024 * 1024));
    const first = lab.spawn(['data', 'push']);
    // Not a timing: the second run must not wait for the first (no --wait), so it ends before it.
    let firstEnded = false;
    void first.then(() => (firstEnded = true), () => (firstEnded = true));
    await until('the lock', () => existsSync(lab.path('.labsync/locks/raw.lock')));
    const second = await lab.cli(['data', 'push', '--json']);
    expect(second.exitCode).toBe(75);
    expect(firstEnded).toBe(false);
    expect(pairOf(second)).toMatchObject({ status: 'locked', commands: [] });
    first.kill('SIGINT');
    await first;
  });

  it.skipIf(!root)('8. disk full at the destination: reported as disk full, no existing file deleted or replaced by a partial one', async () => {
    const lab = folderLab('rsync', '    max_delete: 100%\n');
    lab.write(lab.path('raw/big.bin'), randomBytes(2 * 1024 * 1024));
    const dest = lab.outside('nas/raw');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dest, { recursive: true });
    // A 1 MiB tmpfs in a private mount namespace: the destination is small, the host untouched.
    const script = [
      'mount -t tmpfs -o size=1m tmpfs "$1"',
      'printf precious > "$1/keep.txt"; printf old > "$1/f1.csv"',
      `"${process.execPath}" "${BIN}" -c "$2" data push --json > "$3"; echo $? > "$3.rc"`,
      'ls -A "$1" > "$3.ls"; cat "$1/keep.txt" > "$3.keep"; cat "$1/f1.csv" > "$3.f1"',
    ].join('\n');
    const out = lab.outside('out.json');
    await execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dest, lab.path('labsync.yaml'), out], { env: lab.env });
    expect(readFileSync(`${out}.rc`, 'utf8').trim()).toBe('1');
    expect(pairOf({ stdout: readFileSync(out, 'utf8') }).error).toMatch(/^disk full at the destination: .*No space left on device/);
    expect(readFileSync(`${out}.keep`, 'utf8')).toBe('precious');
    const listing = readFileSync(`${out}.ls`, 'utf8').split('\n').filter(Boolean);
    expect(listing).not.toContain('big.bin');
    expect(readFileSync(`${out}.f1`, 'utf8')).toMatch(/^(old|row 1\n)$/);
  });

  it('9. wrong and missing credentials: one clear message, not retried, every request to the loopback endpoint', async () => {
    const lab = new Lab();
    const strict = await startMoto(lab.root, { INITIAL_NO_AUTH_ACTION_COUNT: '0' });
    try {
      lab.manifest(`version: 1\ndefaults:\n  retries: 3\nremotes:\n  st: { type: s3, bucket: locked-bucket, prefix: p, endpoint: "${strict.endpoint}" }\ndata:\n  - { name: raw, local: raw, remote: "st:raw" }\n`);
      lab.write(lab.path('raw/a'), 'a');
      const wrong = await lab.cli(['data', 'push', '--json'], { env: { AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1', AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-123', AWS_DEFAULT_REGION: 'us-east-1' } });
      expect(wrong.exitCode).toBe(1);
      expect(pairOf(wrong)).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^credentials refused: .*(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied)/) });
      expect(wrong.stdout + wrong.stderr).not.toContain('wrong-secret-value-123');
      const none = await lab.cli(['data', 'push', '--json'], { env: { AWS_DEFAULT_REGION: 'us-east-1' } });
      expect(pairOf(none)).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^credentials refused: .*Unable to locate credentials/) });
      for (const c of pairOf(none).commands) {
        expect(c).toContain('AWS_EC2_METADATA_DISABLED=true');
        expect(c).toContain(`--endpoint-url ${strict.endpoint}`);
      }
    } finally {
      await stopMoto(strict);
    }
  });

  it('10. silent corruption at the destination: check exits 4 naming the file; a push replaces it and verify passes', async () => {
    const lab = folderLab('rsync');
    await lab.cli(['data', 'push']);
    const target = lab.outside('nas/raw/f3.csv');
    const { mtime } = statSync(target);
    writeFileSync(target, 'row X\n');
    utimesSync(target, mtime, mtime);
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(pairOf(check).verify?.changed).toEqual(['f3.csv']);
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode).toBe(0);
    // The check hashed both sides, so the push's plan holds it as a replace by content (or, where a
    // side's hash was too fresh to remember, verify finds it and repairs it): either way it is sent.
    const pushed = pairOf(push) as { warnings: string[]; changes?: { replace?: string[] } };
    expect(pushed.changes?.replace?.includes('f3.csv') || /^repaired 1 file .*: f3\.csv$/.test(pushed.warnings[0] ?? '')).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('row 3\n');
    expect((await lab.cli(['check'])).exitCode).toBe(0);
  });

  it('11. a file changing while it is synced is never reported as verified while it differs', async () => {
    const lab = folderLab('rsync', '    bwlimit: 500K\n');
    lab.write(lab.path('raw/growing.log'), randomBytes(1024 * 1024));
    const run = lab.spawn(['data', 'push', '--json']);
    let writes = 0;
    const writer = setInterval(() => {
      appendFileSync(lab.path('raw/growing.log'), `line ${writes++}\n`);
    }, 100);
    const done = await run.finally(() => clearInterval(writer));
    const pair = pairOf({ stdout: String(done.stdout) });
    const same = existsSync(lab.outside('nas/raw/growing.log')) && readFileSync(lab.outside('nas/raw/growing.log')).equals(readFileSync(lab.path('raw/growing.log')));
    if (pair.status === 'ok') {
      expect(same).toBe(true);
      expect(pair.verify?.status).toBe('in_sync');
    } else {
      expect(pair.status).toBe('drift');
      expect(pair.error).toContain('growing.log');
    }
    expect(writes).toBeGreaterThan(3);
  });

  it('12. malformed, mistyped and hostile manifests: exit 2 with a located message, never a stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['version: 1\ndata:\n\t- name: a\n', /labsync\.yaml:3:1 .*[Tt]ab/],
      ['version: 1\nversion: 1\n', /labsync\.yaml:2:1 duplicate key/],
      ['version: 1\ndata:\n  - { name: a, local: x, remote: "file:///r", dleete: true }\n', /labsync\.yaml:3:47 data\.a: unknown key 'dleete' \(did you mean 'delete'\?\)/],
      ['version: 1\ndata:\n  - { name: a, local: x, remote: "file:///r", retries: many }\n', /data\.a: retries: expected (int|number), got the string 'many'/],
      ['version: 1\ndata:\n  - { name: a, local: x, remote: "file:///r", retries: 99999999999 }\n', /data\.a: retries: .*(100|too big)/i],
      [`version: 1\ndata:\n  - { name: a, local: x, remote: "file:///r", exclude: ["${'x'.repeat(2 * 1024 * 1024)}"] }\n`, /larger than 1024 KiB/],
      ['version: 1\ndata:\n  - { name: ../../etc, local: x, remote: "file:///r" }\n', /name: must match/],
      ['a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n', /alias/i],
      ['- just\n- a list\n', /must be a mapping/],
    ];
    for (const [text, message] of cases) {
      const lab = new Lab().manifest(text);
      const r = await lab.cli(['sync']);
      expect(r.exitCode, text.slice(0, 60)).toBe(2);
      expect(r.stderr, text.slice(0, 60)).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(readdirSync(lab.path())).toEqual(['labsync.yaml']);
    }
  });
});
