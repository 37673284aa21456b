// What the hand-run ssh benches (noop-ssh.ts, change-ssh.ts) share: one command measured in a cpuacct
// cgroup of its own, with the kept ssh masters' and the loopback sshd's CPU, and the lines they print.
// labsync keeps its ssh connection between runs by default (kept-ssh.ts): every contender has its own
// XDG_CACHE_HOME, so its runs are warm on its own connection; a "-cold" twin closes it before each run.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshHost } from '../test/harness/sshd.js';
import { costEnd, costStart, emulatedPersist, evictLeftovers, keptOptions, runBusy } from './kept-ssh.js';
import { median } from './measure.js';

const CG = '/sys/fs/cgroup/cpuacct';
let groups = 0;

/** client: the run's cgroup plus the kept masters' work for it (`masters`, shown apart too); server: the sshd tree's. */
export interface Sample { wall: number; client: number; masters: number; server: number }

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** rsync's `-e` for the loopback host. */
export const rshOf = (host: SshHost): string => `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;

/** rsync's `-e` with the three options labsync's kept connection uses, its socket at `socket`. */
export const keptRshOf = (host: SshHost, socket: string): string => `${rshOf(host)} ${keptOptions(socket).map((o) => `-o ${o}`).join(' ')}`;

/** A labsync project in `dir` pushing `src` to `root`/remote-`name` on the host (XDG_CACHE_HOME `cache`). */
export function writeProject(dir: string, host: SshHost, root: string, src: string, name: string, cache: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${root}\n${emulatedPersist(cache, host.user, host.port)}data:\n  - name: t\n    local: ${src}\n    remote: gpu:remote-${name}\n`);
}

export interface MeasuredOptions {
  /** The command's stderr is written out. */
  readonly echoStderr?: boolean;
  /** The start of the ControlPath of every kept master the bench's runs may leave: their CPU is counted. */
  readonly mux?: string;
}

/**
 * Runs `argv` in `cwd` inside a fresh cpuacct cgroup (`name`-PID). Waits for the run's own processes
 * (bounded), never for a kept master: one the run forked is counted by the cgroup up to then and moved
 * out; one kept from an earlier run counts by its CPU delta; the server by its whole tree's delta
 * (kept-ssh.ts), read once the run's sessions there are over.
 */
export async function measured(name: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv, host: SshHost, options: MeasuredOptions = {}): Promise<Sample> {
  const cg = join(CG, `${name}-${process.pid}-${groups++}`);
  mkdirSync(cg);
  const start = costStart(host.pid, options.mux);
  const t = process.hrtime.bigint();
  // stderr to a file, and the end is the command's exit: a process it leaves running never holds the bench.
  const errFile = join(tmpdir(), `${name}-${process.pid}.stderr`);
  const fd = openSync(errFile, 'w');
  const child = spawn('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec "$@"`, 'sh', ...argv], { cwd, env, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 128)));
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  const err = readFileSync(errFile, 'utf8');
  rmSync(errFile, { force: true });
  if (code !== 0) throw new Error(`${argv.join(' ')}: exit ${code} ${err}`);
  if (err && options.echoStderr) process.stderr.write(err);
  for (let i = 0; i < 200 && runBusy(cg); i++) await sleep(10);
  const client = Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
  evictLeftovers(cg, CG);
  try {
    rmdirSync(cg);
  } catch {
    // a leftover still leaving (a zombie cannot move): an empty group stays behind, harmless
  }
  const kept = costEnd(start, host.pid, options.mux, true);
  return { wall, client: client + kept.masters, masters: kept.masters, server: kept.host };
}

export function printSample(round: number, k: string, s: Sample): void {
  process.stdout.write(`round ${round} ${k.padEnd(17)} wall ${s.wall.toFixed(0).padStart(5)} ms  client ${s.client.toFixed(0).padStart(4)} ms (kept masters ${s.masters.toFixed(0).padStart(3)})  server ${s.server.toFixed(0).padStart(4)} ms\n`);
}

export function printMedians(samples: Record<string, Sample[]>): void {
  process.stdout.write('\nmedians (wall / client CPU / server CPU / client+server), min–max of client+server:\n');
  for (const [k, ss] of Object.entries(samples)) {
    const tot = ss.map((s) => s.client + s.server);
    process.stdout.write(`${k.padEnd(17)} ${median(ss.map((s) => s.wall)).toFixed(0)} / ${median(ss.map((s) => s.client)).toFixed(0)} / ${median(ss.map((s) => s.server)).toFixed(0)} / ${median(tot).toFixed(0)} ms  (${Math.min(...tot).toFixed(0)}–${Math.max(...tot).toFixed(0)})\n`);
  }
}
