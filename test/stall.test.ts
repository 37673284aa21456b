// The stall watchdog (issue 13.2): a server that dies or goes silent mid-transfer ends the run within
// stall_timeout + retries, as a failure that says so; a slow transfer that keeps moving is left alone.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { awsCli, S3_KEYS, startMoto, stopMoto } from './harness/moto.js';
import { descendsFrom, processesLeft, processesMentioning } from './harness/processes.js';
// processesLeft: a kept ssh connection's master (ssh: <socket> [mux]) outlives a run by design (engine/ssh-keep.ts).
import type { SshHost } from './harness/sshd.js';
import { until } from './harness/wait.js';

// null only off CI on a machine without sshd / moto_server (global-setup fails a CI run instead).
const ssh = inject('sshHost');
const s3 = inject('s3');
type Pair = { status: string; error: string | null; attempts: number; verify: { status: string } | null };
const pairOf = (stdout: string): Pair => (JSON.parse(stdout) as { pairs: Pair[] }).pairs[0] as Pair;
// A guard against hanging, not a timing assertion: two attempts of 3 s each and a short backoff fit many times over.
const HANG_GUARD_MS = 60_000;

/** Every file under `dir`, relative path → its SHA-256 (comparing digests, not megabytes, keeps the assertion cheap). */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
      else out[join(rel, e.name)] = createHash('sha256').update(readFileSync(join(d, e.name))).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

/**
 * A TCP relay to sshd that can go silent: from then on it forwards nothing either way and answers no new
 * connection, yet closes nothing — a peer that stops talking, not one that refuses.
 */
async function silentableProxy(port: number): Promise<{ port: number; silence(): void; close(): void }> {
  const sockets = new Set<Socket>();
  let silent = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    if (silent) return client.pause();
    const upstream = createConnection({ host: '127.0.0.1', port });
    sockets.add(upstream);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (chunk) => (silent ? from.pause() : to.write(chunk)));
      from.on('error', () => undefined);
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    silence: () => {
      silent = true;
      for (const s of sockets) s.pause();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('stall watchdog', () => {
  it.skipIf(!s3)('(a) the S3 server killed mid-upload of an rclone push: exit 1 within stall_timeout + retries, no child left, the source intact', async () => {
    const lab = new Lab();
    const server = await startMoto(lab.root);
    try {
      const bucket = 'stall-bucket';
      await awsCli(server, lab.env, ['s3', 'mb', `s3://${bucket}`]);
      lab.manifest(`version: 1\ndefaults:\n  retries: 1\n  retry_delay: 100ms\n  stall_timeout: 3s\nremotes:\n  st: { type: s3, bucket: ${bucket}, prefix: p, endpoint: "${server.endpoint}" }\ndata:\n  - { name: raw, tool: rclone, local: raw, remote: "st:raw", bwlimit: 2M }\n`);
      for (let i = 0; i < 40; i++) lab.write(lab.path('raw', `f${i}.bin`), randomBytes(1024 * 1024));
      const source = files(lab.path('raw'));
      const started = Date.now();
      const run = lab.spawn(['data', 'push', '--json'], { env: S3_KEYS });
      await until('the upload to be under way', () => processesMentioning(lab.path('raw')).some((p) => p.cmdline.startsWith('rclone copy')), 20_000);
      await new Promise((r) => setTimeout(r, 2000));
      await stopMoto(server);
      const done = await run;
      expect(Date.now() - started).toBeLessThan(HANG_GUARD_MS);
      expect(done.exitCode, String(done.stderr)).toBe(1);
      // The watchdog or rclone's own bounded waits (--timeout 3s, 3 low-level retries) end each attempt,
      // whichever sees it first; a retry that starts against the dead server fails with rclone's own words.
      expect(pairOf(String(done.stdout))).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringMatching(/^(no progress for 3s|.*connection refused)/) });
      expect(processesLeft(lab.root)).toEqual([]);
      // A push reads its source only: every byte of it is still there.
      expect(files(lab.path('raw'))).toEqual(source);
    } finally {
      await stopMoto(server);
    }
  });

  it.skipIf(!ssh)('(b) the ssh link goes silent mid-rsync (a peer that stops talking): exit 1, "no progress for 3s", no file truncated under its name', async () => {
    const host = ssh as SshHost;
    const lab = new Lab();
    const proxy = await silentableProxy(host.port);
    try {
      // The host key, as the relay's address presents it.
      const knownHosts = lab.outside('known_hosts');
      writeFileSync(knownHosts, readFileSync(host.knownHosts, 'utf8').replace(`]:${host.port} `, `]:${proxy.port} `));
      lab.manifest(`version: 1\ndefaults:\n  retries: 1\n  retry_delay: 100ms\n  stall_timeout: 3s\nremotes:\n  gpu: { type: ssh, host: 127.0.0.1, port: ${proxy.port}, user: ${host.user}, identity: ${host.identity}, known_hosts: ${knownHosts}, ssh_config: ${host.sshConfig}, path: ${lab.outside('remote')} }\nmodels:\n  - { name: m, local: m, remote: "gpu:m", bwlimit: 200K }\n`);
      lab.write(lab.path('m/big.ckpt'), randomBytes(3 * 1024 * 1024));
      const run = lab.spawn(['models', 'push', '--json']);
      await until('the transfer to be under way', () => existsSync(lab.outside('remote/m')) && readdirSync(lab.outside('remote/m')).length > 0, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const started = Date.now();
      proxy.silence();
      const done = await run;
      expect(Date.now() - started).toBeLessThan(HANG_GUARD_MS);
      expect(done.exitCode, String(done.stderr)).toBe(1);
      expect(pairOf(String(done.stdout))).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringMatching(/^no progress for 3s/) });
      // Nothing of labsync's left here. The host's side of the silent link lives until the host
      // notices (its rsync --server always did); a held session's script names the folder, so it shows.
      expect(processesLeft(lab.root).filter((p) => !descendsFrom(p.pid, host.pid))).toEqual([]);
      expect(existsSync(lab.outside('remote/m/big.ckpt'))).toBe(false);
    } finally {
      proxy.close();
    }
  });

  it('(c) a slow transfer that keeps moving is not stopped, even with stall_timeout barely above the progress interval — rsync, rclone', async () => {
    for (const tool of ['rsync', 'rclone']) {
      const lab = new Lab();
      lab.manifest(`version: 1\ndefaults:\n  retries: 0\n  stall_timeout: 3s\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - { name: raw, tool: ${tool}, local: raw, remote: "nas:raw", bwlimit: 150K }\n`);
      lab.write(lab.path('raw/big.bin'), randomBytes(1536 * 1024));
      const r = await lab.cli(['data', 'push', '--json']);
      expect(r.exitCode, `${tool}: ${r.stdout}`).toBe(0);
      expect(pairOf(r.stdout), tool).toMatchObject({ status: 'ok', attempts: 1, verify: { status: 'in_sync' } });
      expect(readFileSync(lab.outside('nas/raw/big.bin')).equals(readFileSync(lab.path('raw/big.bin'))), tool).toBe(true);
    }
  });
});
