// What a run over ssh costs once the connection is kept between runs (OpenSSH ControlPersist, labsync's
// default). The run that logs in forks the master, `ssh: <ControlPath> [mux]`: it detaches (stdio on
// /dev/null, parent init, so nothing waiting on the run's pipes or children waits for it), stays in that
// run's cgroup and carries the sessions of the runs after it until it has been idle ControlPersist
// seconds; the loopback sshd's process for that connection lives as long. So a run's cost is its own
// processes, plus what the kept masters spent during it, plus the delta of the whole sshd tree (the
// per-connection processes' own time and their reaped sessions'), not only the listener's reaped children.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

interface Stat { comm: string; state: string; own: number; children: number }

function stat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return {
      comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')),
      state: f[0] as string,
      own: (Number(f[11]) + Number(f[12])) * TICK_MS,
      children: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return undefined; // gone
  }
}

const alive = (pid: number): boolean => {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z';
};

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);

/**
 * utime + stime + cutime + cstime summed over `pid` and every process under it, in ms. A process reaped
 * meanwhile moved its share into its parent's cutime/cstime, so the sum only grows by work done.
 */
export function treeCpuMs(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => {
    const s = stat(p);
    return sum + (s ? s.own + s.children : 0);
  }, 0);
}

/** The ControlPath of a kept master's title (setproctitle pads it with spaces or NULs). */
const masterPath = (title: string): string | undefined => /^ssh: (\S+) \[mux\]/.exec(title)?.[1];

/** The kept masters whose ControlPath starts with `prefix`: pid → CPU ms (utime+stime+cutime+cstime). */
export function masters(prefix: string): Map<number, number> {
  const found = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let title: string;
    try {
      title = readFileSync(join('/proc', name, 'cmdline'), 'utf8');
    } catch {
      continue;
    }
    const path = masterPath(title);
    const s = path?.startsWith(prefix) ? stat(Number(name)) : undefined;
    if (s && s.state !== 'Z') found.set(Number(name), s.own + s.children);
  }
  return found;
}

/**
 * Ends the kept masters under `prefix` (processes the bench's own runs started, each by its pid) and
 * waits, at most 3 s, until they are gone: SIGTERM makes ssh remove its socket, so the next run logs in
 * afresh, as the first run after ControlPersist ran out does.
 */
export function closeMasters(prefix: string): void {
  const pids = [...masters(prefix).keys()];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // ended by itself meanwhile
    }
  }
  for (let i = 0; i < 300 && pids.some(alive); i++) sleepSync(10);
}

/**
 * Waits, at most 3 s, until the host's part of the last run is over: no session left under `sshd`
 * (only sshd's own per-connection processes) and no more connections than there are kept masters
 * (`kept`), so a connection that is closing is counted in full. Never waits for a kept connection.
 */
export function settleHost(sshd: number, kept: number): void {
  for (let i = 0; i < 300; i++) {
    // OpenSSH 9.8 on names the per-connection processes sshd-session.
    const busy = descendants(sshd).some((p) => {
      const comm = stat(p)?.comm;
      return comm !== undefined && !comm.startsWith('sshd');
    });
    if (!busy && childrenOf(sshd).filter(alive).length <= kept) return;
    sleepSync(10);
  }
}

/** Processes a run left in its cgroup and the bench moved out (evictLeftovers): kept, whatever their name. */
const leftBehind = new Set<number>();

/**
 * The processes kept between runs: the masters under `prefix`, and whatever a run left behind in its
 * cgroup (a master whose socket is elsewhere, anything else a run did not wait for); pid → CPU ms.
 */
function keptNow(prefix: string | undefined): Map<number, number> {
  const found = prefix ? masters(prefix) : new Map<number, number>();
  for (const pid of leftBehind) {
    const s = stat(pid);
    if (!s || s.state === 'Z') leftBehind.delete(pid);
    else if (!found.has(pid)) found.set(pid, s.own + s.children);
  }
  return found;
}

export interface SshCostStart { readonly kept: Map<number, number>; readonly host: number }

/** Before a run: the kept processes' CPU and the server tree's (a connection just closed has ended first). */
export function costStart(server: number, prefix: string | undefined): SshCostStart {
  if (prefix) settleHost(server, keptNow(prefix).size);
  return { kept: keptNow(prefix), host: treeCpuMs(server) };
}

/**
 * After a run: the CPU ms the kept processes spent during it and the server tree's delta, read once the
 * host's part is over (with a `prefix`: an ssh server). One kept from before counts by its delta; one
 * the run started counts in full only when `counted` is false (no cgroup held the run, so
 * /usr/bin/time's count left it out). A master ending by its timeout during the run loses its last
 * ticks: at most one per ControlPersist window.
 */
export function costEnd(start: SshCostStart, server: number, prefix: string | undefined, counted: boolean): { masters: number; host: number } {
  if (prefix) settleHost(server, keptNow(prefix).size);
  let spent = 0;
  for (const [pid, cpu] of keptNow(prefix)) {
    const before = start.kept.get(pid);
    spent += before !== undefined ? cpu - before : counted ? 0 : cpu;
  }
  return { masters: spent, host: treeCpuMs(server) - start.host };
}

/**
 * The processes left in a run's cgroup once the run has ended (a kept master) go to the hierarchy's root
 * cgroup `root`, so the run's group can be removed; what they used so far stays charged to that group,
 * what they use later is counted by their CPU delta (costStart, costEnd).
 */
export function evictLeftovers(group: string, root: string): void {
  for (const pid of readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      writeFileSync(join(root, 'cgroup.procs'), pid);
      leftBehind.add(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
}

/** Whether a run's cgroup still holds a process of the run's own: anything but a kept master. */
export function runBusy(group: string): boolean {
  return readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).some((pid) => {
    try {
      return masterPath(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) === undefined;
    } catch {
      return false; // gone
    }
  });
}

/** The three options labsync's kept connection uses, for a socket at `path`. */
export const keptOptions = (path: string): string[] => ['ControlMaster=auto', `ControlPath=${path}`, 'ControlPersist=60'];

/**
 * Development only, until labsync keeps its connection by default: LABSYNC_BENCH_EMULATE_PERSIST=1 gives
 * a bench's ssh remote the options labsync's default will use, its socket in the same folder
 * (XDG_CACHE_HOME `cache`/labsync/ssh), so the kept rows can be seen with a build that does not keep it
 * yet. Returns the manifest's `ssh_options:` line for the remote (indented 4), or '' without the switch.
 */
export function emulatedPersist(cache: string, user: string, port: number): string {
  if (process.env.LABSYNC_BENCH_EMULATE_PERSIST !== '1') return '';
  const dir = join(cache, 'labsync', 'ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const digest = createHash('sha256').update(`${user}@127.0.0.1:${port}`).digest('hex').slice(0, 20);
  return `    ssh_options: [${keptOptions(join(dir, digest)).map((o) => JSON.stringify(o)).join(', ')}]\n`;
}

/** Where labsync keeps its sockets under XDG_CACHE_HOME `cache`: the prefix of its masters' ControlPath. */
export const labsyncSockets = (cache: string): string => `${join(cache, 'labsync', 'ssh')}/`;
