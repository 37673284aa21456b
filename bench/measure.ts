// What every bench module shares: timing a shell command, medians, the trees, and the table of rows.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { evictLeftovers } from './kept-ssh.js';

export const BIN = resolve('bin/labsync.js');
export const ROOT = process.env.LABSYNC_BENCH_DIR ?? join(tmpdir(), 'labsync-bench');
export const RUNS = Number(process.env.LABSYNC_BENCH_RUNS ?? 3);

export interface ShOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Exit codes that count as an answer; by default 0, 1 and 4 (drift found), anything else a broken bench. */
  readonly expect?: readonly number[];
}

/**
 * Milliseconds `script` took, to its exit. Its stderr goes to a file, not a pipe: a process it leaves
 * running that kept the pipe (a kept ssh master, if it did not detach its stdio) would hold spawnSync
 * until that process ends.
 */
export function sh(script: string, options: ShOptions = {}): number {
  const t = process.hrtime.bigint();
  const env = options.env ?? { ...process.env, RCLONE_CONFIG: '/dev/null' };
  const errFile = join(tmpdir(), `labsync-bench-stderr-${process.pid}`);
  const fd = openSync(errFile, 'w');
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync('sh', ['-c', script], { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'ignore', fd], env });
  } finally {
    closeSync(fd);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const stderr = readFileSync(errFile, 'utf8');
  rmSync(errFile, { force: true });
  if (!(options.expect ?? [0, 1, 4]).includes(r.status ?? -1)) throw new Error(`${script} exited ${r.status}: ${stderr}`);
  return ms;
}

/**
 * Writes every dirty page out (`sync`), untimed: a run that writes a tree leaves hundreds of MB for the
 * kernel to flush ~30 s later, on its flusher threads' CPU, which then lands on whichever run comes
 * next (the first push rows swung by up to a second with the series' order). A timed run that writes
 * or reads a whole tree starts after one, so each pays only for its own writes.
 */
export function settleDisk(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

let trashed = 0;

/**
 * Moves a finished run's copy out of the way into `bin` (one rename), to be removed when the bench ends,
 * not now. On ext4 without a journal (this VM's root) the kernel allocates no inode deleted in the last
 * 60 s (300 s while its table block is dirty) and looks at each one it skips (ialloc.c recently_deleted):
 * a first push made right after the round before's 50k files were removed spent most of its host CPU
 * there (perf: find_inode_bit → recently_deleted), more each round, whichever tool came next. Removing
 * the copies at the end leaves every timed create the cost a user's disk has.
 */
export function trash(path: string, bin: string): void {
  if (!existsSync(path)) return;
  mkdirSync(bin, { recursive: true });
  renameSync(path, join(bin, `${trashed++}`));
}

export interface Usage { readonly ms: number; readonly cpuMs: number; readonly peakMb: number }

/** A CPU-accounting cgroup the bench may make (cgroup v1 cpuacct, or v2), or undefined. */
const CGROUP_ROOT = ((): { dir: string; v2: boolean } | undefined => {
  if (process.env.LABSYNC_BENCH_CGROUP === '0') return undefined;
  for (const [dir, v2] of [['/sys/fs/cgroup/cpuacct', false], ['/sys/fs/cgroup', true]] as const) {
    const probe = join(dir, `labsync-bench-probe-${process.pid}`);
    try {
      if (!existsSync(join(dir, v2 ? 'cgroup.controllers' : 'cpuacct.usage'))) continue;
      mkdirSync(probe);
      rmdirSync(probe);
      return { dir, v2 };
    } catch {
      // not ours to make: /usr/bin/time's count alone
    }
  }
  return undefined;
})();
let cgroups = 0;

/** CPU ms a cgroup's processes used, from its accounting file. */
function cgroupCpuMs(dir: string, v2: boolean): number {
  if (!v2) return Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8').trim()) / 1e6;
  const m = /^usage_usec (\d+)/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
  return m ? Number(m[1]) / 1000 : 0;
}

/**
 * `script` under /usr/bin/time: wall time, CPU time (user + sys, what the machine's load does not
 * inflate) and the peak RSS of its largest single process. Where the bench may make a cgroup, the CPU
 * is the cgroup's (`inCgroup`): every process the script started, also one it left running and never
 * waited for (a kept ssh master, which /usr/bin/time's count misses), up to the script's end; such a
 * process then moves to the root group, and its later work is the caller's to count (kept-ssh.ts).
 * Nothing here waits for it.
 */
export function usage(script: string, options: ShOptions = {}): Usage & { readonly inCgroup: boolean } {
  const out = join(tmpdir(), `labsync-bench-time-${process.pid}`);
  const group = CGROUP_ROOT ? join(CGROUP_ROOT.dir, `labsync-bench-${process.pid}-${cgroups++}`) : undefined;
  if (group) mkdirSync(group);
  const timed = `/usr/bin/time -f '%U %S %M' -o ${out} sh -c '${script.replace(/'/g, "'\\''")}'`;
  let ms: number;
  try {
    ms = sh(group ? `echo $$ > ${group}/cgroup.procs && exec ${timed}` : timed, options);
  } catch (e) {
    if (group && CGROUP_ROOT) dropGroup(group, CGROUP_ROOT.dir);
    throw e;
  }
  const [user, sys, kb] = (readFileSync(out, 'utf8').trim().split('\n').pop() as string).split(' ').map(Number) as [number, number, number];
  rmSync(out, { force: true });
  if (!group || !CGROUP_ROOT) return { ms, cpuMs: (user + sys) * 1000, peakMb: kb / 1024, inCgroup: false };
  const cpuMs = cgroupCpuMs(group, CGROUP_ROOT.v2);
  dropGroup(group, CGROUP_ROOT.dir);
  return { ms, cpuMs, peakMb: kb / 1024, inCgroup: true };
}

/** Groups a leftover was still leaving (a zombie cannot move): removed on a later call, or at exit. */
const leftGroups: string[] = [];
const removeLeft = (): void => {
  for (const d of leftGroups.splice(0)) {
    try {
      rmdirSync(d);
    } catch {
      leftGroups.push(d);
    }
  }
};
process.on('exit', removeLeft);

function dropGroup(group: string, root: string): void {
  evictLeftovers(group, root);
  leftGroups.push(group);
  removeLeft();
}

/** The median of each of RUNS measurements (each taken on its own). */
export function medianUsage(script: string, options: ShOptions = {}, runs = RUNS): Usage {
  const all = Array.from({ length: runs }, () => usage(script, options));
  return { ms: median(all.map((u) => u.ms)), cpuMs: median(all.map((u) => u.cpuMs)), peakMb: median(all.map((u) => u.peakMb)) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export function time(script: string, runs = RUNS, before?: () => void, options: ShOptions = {}): number {
  return median(Array.from({ length: runs }, () => {
    before?.();
    return sh(script, options);
  }));
}

export interface TreeOptions {
  /** Also keep a `copy` beside `src` (the local↔local rows compare the two). */
  readonly copy?: boolean;
  /** Set every file's mtime this many seconds in the past: older than any racy window. */
  readonly ageSeconds?: number;
}

/** A tree of `count` files of `min`–`max` bytes in folders of 500 under NAME/src, made once and reused. */
export function makeTree(name: string, count: number, min: number, max: number, options: TreeOptions = { copy: true }): string {
  const dir = join(ROOT, name);
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const pool = randomBytes(max + 4096);
  const past = options.ageSeconds === undefined ? undefined : new Date(Date.now() - options.ageSeconds * 1000);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, 'src', `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    const size = min + ((i * 7919) % (max - min + 1));
    const off = (i * 131) % 4096;
    const body = Buffer.from(pool.subarray(off, off + size));
    body.writeUInt32LE(i, 0); // every file different
    const file = join(sub, `f${i}.bin`);
    writeFileSync(file, body);
    if (past) utimesSync(file, past, past);
  }
  if (options.copy) {
    spawnSync('cp', ['-a', join(dir, 'src'), join(dir, 'copy')]);
    writeFileSync(join(dir, 'labsync.yaml'), 'version: 1\ndata:\n  - name: t\n    local: src\n    remote: file://COPY\n'.replace('COPY', join(dir, 'copy')));
  }
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}

/**
 * goal: the most labsync may take as a share of the other tool's time; undefined: shown, not judged.
 * limit: an absolute goal instead (startup ms, watch ready ms or peak RSS MB), judged on `labsync` alone.
 * unit: what both numbers are in (ms unless said).
 */
export interface Row { what: string; labsync: number; other: string; otherMs: number; goal: number | undefined; limit?: number; unit?: string }
export const rows: Row[] = [];
export function add(what: string, labsync: number, other: string, otherMs: number, goal: number | undefined, absolute?: { limit?: number; unit?: string }): void {
  rows.push({ what, labsync, other, otherMs, goal, ...absolute });
  const unit = absolute?.unit ?? 'ms';
  process.stderr.write(`  ${what}: ${labsync.toFixed(0)} ${unit} vs ${otherMs.toFixed(0)} ${unit}\n`);
}

/** Runs of a measurement when it was fewer than RUNS: said in the row, so a single run is not read as a median. */
export function runsNote(runs: number): string {
  return runs === RUNS ? '' : ` (${runs} run${runs === 1 ? '' : 's'})`;
}

export function table(): string {
  const lines = [
    '| measurement | labsync | alternative | alternative time | ratio | goal | met |',
    '|---|---:|---|---:|---:|---:|:-:|',
    ...rows.map((r) => {
      const unit = r.unit ?? 'ms';
      const ratio = r.otherMs > 0 ? `${(r.labsync / r.otherMs).toFixed(2)}×` : '—';
      const goal = r.limit !== undefined ? `≤ ${r.limit} ${unit}` : r.goal === undefined ? '—' : `≤ ${r.goal.toFixed(2)}×`;
      const met = r.limit !== undefined ? (r.labsync <= r.limit ? 'yes' : 'no') : r.goal === undefined ? '—' : r.labsync / r.otherMs <= r.goal ? 'yes' : 'no';
      const other = r.otherMs > 0 ? `${r.otherMs.toFixed(0)} ${unit}` : '—';
      return `| ${r.what} | ${r.labsync.toFixed(0)} ${unit} | ${r.other} | ${other} | ${ratio} | ${goal} | ${met} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Rewrites `path` on each call with new content and a size alternating by one byte (aws s3 sync would
 * miss a same-size file with an older mtime than the object), its mtime past the racy window: each
 * run then sees exactly one changed file.
 */
export function fileChanger(path: string): () => void {
  const size = statSync(path).size;
  let k = 0;
  return () => {
    k += 1;
    writeFileSync(path, randomBytes(size + (k % 2)));
    const when = new Date(Date.now() - 2000);
    utimesSync(path, when, when);
  };
}
