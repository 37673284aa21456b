// Hand measurement (not part of `npm run bench`): one changed file pushed over the loopback sshd by two
// labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js) and `rsync -a`, back to back, the order
// turned each round. Each contender has its own project and remote folder; the source is its own copy of
// the sync bench's 10k × ~50 KiB tree (CHANGE_SRC), one file rewritten (new content and size, mtime 2 s
// back) before each round, so every contender sees exactly one changed file, as the bench's row does.
// Per run: wall ms, client CPU (a cpuacct cgroup holding the command: every process it started) and the
// server's (the loopback sshd's reaped children, /proc/PID/stat cutime+cstime, once they are gone).
// CHANGE_ROUNDS (default 5), CHANGE_DIR (default /tmp/change-bench), CHANGE_NOOP=1 adds a no-op row,
// CHANGE_OTHER=1 rewrites d0/f0.bin and d1/f500.bin in turn (the last run's racy copy is then another file).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd, type SshHost } from '../test/harness/sshd.js';

const root = process.env.CHANGE_DIR ?? '/tmp/change-bench';
const rounds = Number(process.env.CHANGE_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string };
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

async function measured(argv: string[], cwd: string, env: NodeJS.ProcessEnv, host: SshHost): Promise<Sample> {
  const cg = join(CG, `change-bench-${process.pid}`);
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
  if (err && process.env.CHANGE_STDERR) process.stderr.write(err);
  for (let i = 0; i < 200 && readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim(); i++) await sleep(10);
  for (let i = 0; i < 200 && childrenOf(host.pid); i++) await sleep(10);
  await sleep(20);
  const client = Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
  rmdirSync(cg);
  return { wall, client, server: serverCpuMs(host.pid) - before };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const src = process.env.CHANGE_SRC ?? join(root, 'src');
mkdirSync(root, { recursive: true });
// Everything but the source copy is made afresh.
for (const d of readdirSync(root)) if (join(root, d) !== src) rmSync(join(root, d), { recursive: true, force: true });
if (!existsSync(src)) spawnSync('cp', ['-a', '/tmp/labsync-bench/sync-10k-50KiB/src', src]);
const host = await startSshd(join(root, 'sshd'));
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const rsh = `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;
  const runs: Record<string, { argv: string[]; cwd: string }> = {};
  const names = Object.keys(builds);
  for (const name of names) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${root}\ndata:\n  - name: t\n    local: ${src}\n    remote: gpu:remote-${name}\n`);
    runs[name] = { argv: ['node', builds[name] as string, 'data', 'push', '-q'], cwd: dir };
  }
  runs.rsync = { argv: ['rsync', '-a', '-e', rsh, `${src}/`, `${host.user}@127.0.0.1:${join(root, 'remote-rsync')}/`], cwd: root };
  const all = [...names, 'rsync'];
  for (const k of all) await measured(runs[k]!.argv, runs[k]!.cwd, env, host);
  await sleep(1200);
  for (const k of [...all, ...all]) await measured(runs[k]!.argv, runs[k]!.cwd, env, host);
  const files = process.env.CHANGE_OTHER === '1' ? [join(src, 'd0', 'f0.bin'), join(src, 'd1', 'f500.bin')] : [join(src, 'd0', 'f0.bin')];
  const sizes = files.map((f) => statSync(f).size);
  const samples: Record<string, Sample[]> = {};
  const kinds = process.env.CHANGE_NOOP === '1' ? ['noop', 'change'] : ['change'];
  for (let r = 0; r < rounds; r++) {
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const kind of kinds) {
      if (kind === 'change') {
        const file = files[r % files.length] as string;
        writeFileSync(file, randomBytes((sizes[r % files.length] as number) + ((r + 1) % 2)));
        const when = new Date(Date.now() - 2000);
        utimesSync(file, when, when);
      }
      for (const who of order) {
        const k = `${kind} ${who}`;
        const s = await measured(runs[who]!.argv, runs[who]!.cwd, env, host);
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
