// What the hand-run ssh benches (noop-ssh.ts, change-ssh.ts) share: one command measured in a cpuacct
// cgroup of its own, with the loopback sshd's reaped children, and the lines they print.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SshHost } from '../test/harness/sshd.js';
import { median } from './measure.js';

const CG = '/sys/fs/cgroup/cpuacct';
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

export interface Sample { wall: number; client: number; server: number }

/** The sshd's CPU with its reaped children's (utime+stime+cutime+cstime), in ms. */
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** rsync's `-e` for the loopback host. */
export const rshOf = (host: SshHost): string => `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;

/**
 * Runs `argv` in `cwd` inside a fresh cpuacct cgroup (`name`-PID); waits for the cgroup and sshd's
 * children to empty. `echoStderr`: the command's stderr is written out.
 */
export async function measured(name: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv, host: SshHost, echoStderr = false): Promise<Sample> {
  const cg = join(CG, `${name}-${process.pid}`);
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
  if (err && echoStderr) process.stderr.write(err);
  for (let i = 0; i < 200 && readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim(); i++) await sleep(10);
  for (let i = 0; i < 200 && childrenOf(host.pid); i++) await sleep(10);
  await sleep(20);
  const client = Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
  rmdirSync(cg);
  return { wall, client, server: serverCpuMs(host.pid) - before };
}

export function printSample(round: number, k: string, s: Sample): void {
  process.stdout.write(`round ${round} ${k.padEnd(12)} wall ${s.wall.toFixed(0).padStart(5)} ms  client ${s.client.toFixed(0).padStart(4)} ms  server ${s.server.toFixed(0).padStart(4)} ms\n`);
}

export function printMedians(samples: Record<string, Sample[]>): void {
  process.stdout.write('\nmedians (wall / client CPU / server CPU / client+server), min–max of client+server:\n');
  for (const [k, ss] of Object.entries(samples)) {
    const tot = ss.map((s) => s.client + s.server);
    process.stdout.write(`${k.padEnd(12)} ${median(ss.map((s) => s.wall)).toFixed(0)} / ${median(ss.map((s) => s.client)).toFixed(0)} / ${median(ss.map((s) => s.server)).toFixed(0)} / ${median(tot).toFixed(0)} ms  (${Math.min(...tot).toFixed(0)}–${Math.max(...tot).toFixed(0)})\n`);
  }
}
