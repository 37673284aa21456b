// Hand measurement (not part of `npm run bench`): a no-op push and an unchanged `check` over the loopback
// sshd, two labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js) and the raw rsync back to back,
// round after round, the order turned each round. Each build has its own project and remote folder; the
// source is the sync bench's 10k × ~50 KiB tree. Per run: wall ms (start to the command's exit), client CPU
// (user+sys of a cpuacct cgroup holding the command, so an ssh that outlives it is counted too), and the
// server's (the loopback sshd's reaped children, /proc/PID/stat cutime+cstime, after its children are gone).
// NOOP_ROUNDS (default 5), NOOP_DIR (default /tmp/noop-bench), NOOP_CHECK=0 leaves out the check rows.
// LABSYNC_C: a third build (or the same one), LABSYNC_C_ENV its extra environment (NAME=VALUE,...), e.g.
// LABSYNC_C=$LABSYNC_B LABSYNC_C_ENV=LABSYNC_EARLY_SSH=0 to see what starting the login early is worth.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd, type SshHost } from '../test/harness/sshd.js';
import { makeTree } from './measure.js';

const root = process.env.NOOP_DIR ?? '/tmp/noop-bench';
const rounds = Number(process.env.NOOP_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string, ...(process.env.LABSYNC_C ? { c: process.env.LABSYNC_C } : {}) };
const extraEnv: Record<string, Record<string, string>> = { c: Object.fromEntries((process.env.LABSYNC_C_ENV ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
const CG = '/sys/fs/cgroup/cpuacct';
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function serverCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
}

const childrenOf = (pid: number): string => {
  try {
    return readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')).join('').trim();
  } catch {
    return '';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample { wall: number; client: number; server: number }

/** Runs `argv` in `cwd` inside a fresh cpuacct cgroup; waits for the cgroup and sshd's children to empty. */
async function measured(argv: string[], cwd: string, env: NodeJS.ProcessEnv, host: SshHost): Promise<Sample> {
  const cg = join(CG, `noop-bench-${process.pid}`);
  if (existsSync(cg)) rmdirSync(cg);
  mkdirSync(cg);
  const before = serverCpuMs(host.pid);
  const t = process.hrtime.bigint();
  const child = spawn('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec "$@"`, 'sh', ...argv], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => void (err += b.toString()));
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 128)));
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (code !== 0) throw new Error(`${argv.join(' ')}: exit ${code} ${err}`);
  for (let i = 0; i < 200 && readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim(); i++) await sleep(10);
  for (let i = 0; i < 200 && childrenOf(host.pid); i++) await sleep(10);
  await sleep(20);
  const client = Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
  rmdirSync(cg);
  return { wall, client, server: serverCpuMs(host.pid) - before };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// NOOP_SRC: a tree of its own (the sync bench changes d0/f0.bin of the shared one while it runs).
const src = process.env.NOOP_SRC ?? join(makeTree('sync-10k-50KiB', 10_000, 40 * 1024, 60 * 1024, { ageSeconds: 24 * 3600 }), 'src');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const host = await startSshd(join(root, 'sshd'));
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const rsh = `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;
  const rawDest = `${host.user}@127.0.0.1:${join(root, 'remote-raw')}/`;
  const runs: Record<string, { argv: string[]; cwd: string; env?: Record<string, string> }> = {};
  const names = Object.keys(builds);
  for (const name of names) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${root}\ndata:\n  - name: t\n    local: ${src}\n    remote: gpu:remote-${name}\n`);
    runs[`push ${name}`] = { argv: ['node', builds[name] as string, 'data', 'push', '-q'], cwd: dir, ...(extraEnv[name] ? { env: extraEnv[name] } : {}) };
    runs[`check ${name}`] = { argv: ['node', builds[name] as string, 'check', '-q'], cwd: dir, ...(extraEnv[name] ? { env: extraEnv[name] } : {}) };
  }
  runs['push rsync'] = { argv: ['rsync', '-a', '-e', rsh, `${src}/`, rawDest], cwd: root };
  runs['check rsync'] = { argv: ['rsync', '-rn', '-e', rsh, `${src}/`, rawDest], cwd: root };
  // First pushes, then a run past the racy second that proves and remembers, then one no-op each to warm the code caches.
  for (const k of [...names.map((n) => `push ${n}`), 'push rsync']) await measured(runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
  await sleep(1200);
  for (const k of [...names.map((n) => `push ${n}`), ...names.map((n) => `push ${n}`), ...names.map((n) => `check ${n}`), 'push rsync']) await measured(runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
  const samples: Record<string, Sample[]> = {};
  const kinds = process.env.NOOP_CHECK === '0' ? ['push'] : ['push', 'check'];
  for (let r = 0; r < rounds; r++) {
    const all = [...names, 'rsync'];
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const kind of kinds) {
      for (const who of order) {
        const k = `${kind} ${who}`;
        const s = await measured(runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
        (samples[k] ??= []).push(s);
        process.stdout.write(`round ${r + 1} ${k.padEnd(12)} wall ${s.wall.toFixed(0).padStart(5)} ms  client ${s.client.toFixed(0).padStart(4)} ms  server ${s.server.toFixed(0).padStart(4)} ms\n`);
      }
    }
  }
  process.stdout.write('\nmedians (wall / client CPU / server CPU / client+server), min–max of client+server:\n');
  for (const [k, ss] of Object.entries(samples)) {
    const tot = ss.map((s) => s.client + s.server);
    process.stdout.write(`${k.padEnd(12)} ${median(ss.map((s) => s.wall)).toFixed(0)} / ${median(ss.map((s) => s.client)).toFixed(0)} / ${median(ss.map((s) => s.server)).toFixed(0)} / ${median(tot).toFixed(0)} ms  (${Math.min(...tot).toFixed(0)}–${Math.max(...tot).toFixed(0)})\n`);
  }
} finally {
  stopSshd(host);
}
