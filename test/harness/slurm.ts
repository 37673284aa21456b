// A one-node Slurm cluster (munged + slurmctld + slurmd) on 127.0.0.1, everything under one temp folder
// (../shared/TESTBED-slurm.md has what was found to work). Every client call gets SLURM_CONF through its
// env: nothing reads or writes /etc/slurm. Stopped by PID: jobs cancelled first, then the daemons, then
// any job process still carrying this cluster's SLURM_CONF, because slurmstepd and its job outlive
// both `scontrol shutdown` and a killed slurmd.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { freePort } from './sshd.js';

export interface SlurmCluster {
  readonly dir: string;
  /** SLURM_CONF for every client call; jobs inherit it. */
  readonly conf: string;
  readonly env: Readonly<Record<string, string>>;
  readonly pids: { readonly munged: number; readonly slurmctld: number; readonly slurmd: number };
  /** The job-completion log (jobcomp/filetxt): one line per finished job or array task. */
  readonly jobcomp: string;
}

const DAEMONS = { munged: '/usr/sbin/munged', slurmctld: '/usr/sbin/slurmctld', slurmd: '/usr/sbin/slurmd' } as const;

/** Why this machine cannot run the cluster, or null when it can. */
export function slurmMissing(): string | null {
  const absent: string[] = Object.values(DAEMONS).filter((d) => !existsSync(d));
  try {
    execFileSync('sh', ['-c', 'command -v sbatch squeue scancel'], { stdio: 'ignore' });
  } catch {
    absent.push('sbatch/squeue/scancel');
  }
  return absent.length ? `Slurm is not installed (${absent.join(', ')} missing): sh scripts/ensure-tools.sh test installs slurm-wlm and munge as root` : null;
}

const stateOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
  } catch {
    return undefined;
  }
};
/** Alive and not a zombie (PID 1 here reaps late, and kill -0 still "finds" a zombie). */
export const alive = (pid: number): boolean => {
  const s = stateOf(pid);
  return s !== undefined && s !== 'Z';
};

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`slurm harness: timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A daemon in the foreground, in its own process group, stdin from /dev/null, output to its log: it holds no pipe of ours. */
function daemon(dir: string, name: keyof typeof DAEMONS, args: readonly string[], env: Record<string, string>): number {
  const out = openSync(join(dir, `${name}.out`), 'a');
  const child = spawn(DAEMONS[name], args, { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...env } });
  child.unref();
  return child.pid as number;
}

/** A client call (sbatch, squeue, scancel, sinfo, scontrol) against this cluster, bounded in time. */
export async function slurm(cluster: SlurmCluster, program: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(program, args, { env: { ...process.env, ...env, ...cluster.env }, reject: false, stdin: 'ignore', timeout: 30_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function mustSlurm(cluster: SlurmCluster, program: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const r = await slurm(cluster, program, args, env);
  if (r.exitCode !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Submits a batch script (or `--wrap`); returns the job id (`--parsable`). `env`: the job's environment besides SLURM_CONF. */
export async function sbatch(cluster: SlurmCluster, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const out = await mustSlurm(cluster, 'sbatch', ['--parsable', ...args], env);
  const id = /^(\d+)/.exec(out.trim())?.[1];
  if (!id) throw new Error(`sbatch printed no job id: ${out}`);
  return id;
}

/** The job's (or array's) tasks still pending or running. */
export async function queued(cluster: SlurmCluster, jobId: string): Promise<string[]> {
  const out = await mustSlurm(cluster, 'squeue', ['-h', '-j', jobId, '-o', '%i %T']);
  return out.split('\n').filter(Boolean);
}

/** Waits (bounded) until nothing of the job or array is left in the queue. */
export async function waitDone(cluster: SlurmCluster, jobId: string, ms = 120_000): Promise<void> {
  await waitFor(`job ${jobId} to leave the queue`, async () => (await queued(cluster, jobId)).length === 0, ms);
}

export interface JobRecord { readonly jobId: string; readonly arrayJobId?: string; readonly arrayTaskId?: string; readonly state: string; readonly exitCode: string }

/** What the job-completion log says of the job or array `jobId` (cancelled tasks that never started leave no line). */
export function finished(cluster: SlurmCluster, jobId: string): JobRecord[] {
  if (!existsSync(cluster.jobcomp)) return [];
  const out: JobRecord[] = [];
  for (const line of readFileSync(cluster.jobcomp, 'utf8').split('\n').filter(Boolean)) {
    const field = (k: string): string | undefined => new RegExp(`(?:^| )${k}=(\\S*)`).exec(line)?.[1];
    const rec = { jobId: field('JobId') ?? '', arrayJobId: field('ArrayJobId'), arrayTaskId: field('ArrayTaskId'), state: field('JobState') ?? '', exitCode: field('ExitCode') ?? '' };
    if (rec.jobId === jobId || rec.arrayJobId === jobId) out.push(rec);
  }
  return out;
}

export async function startSlurm(dir: string): Promise<SlurmCluster> {
  const missing = slurmMissing();
  if (missing) throw new Error(missing);
  mkdirSync(dir, { recursive: true });
  // munged wants its socket's folder world-executable, and so every folder above it.
  chmodSync(dir, 0o755);
  const user = userInfo().username;
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge.socket.2');
  const munged = daemon(dir, 'munged', ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munged.seed')}`], {});
  await waitFor('munged\'s socket', () => existsSync(socket) || !alive(munged), 10_000);
  if (!alive(munged)) throw new Error(`munged did not start: ${readFileSync(join(dir, 'munged.out'), 'utf8')}`);

  const memory = Number(/RealMemory=(\d+)/.exec(execFileSync(DAEMONS.slurmd, ['-C'], { encoding: 'utf8' }))?.[1] ?? '1000');
  const conf = join(dir, 'slurm.conf');
  const env = { SLURM_CONF: conf };
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'plugstack.conf'), '');
  const jobcomp = join(dir, 'jobcomp.log');
  for (let attempt = 1; ; attempt++) {
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    writeFileSync(conf, [
      'ClusterName=labsynctest', 'SlurmctldHost=localhost(127.0.0.1)',
      // Bind 127.0.0.1, never 0.0.0.0.
      'CommunicationParameters=NoCtldInAddrAny,NoInAddrAny',
      `SlurmctldPort=${ctldPort}`, `SlurmdPort=${slurmdPort}`, `SlurmUser=${user}`, `SlurmdUser=${user}`,
      'AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${join(dir, 'state')}`, `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`, `SlurmdLogFile=${join(dir, 'slurmd.log')}`, `PlugStackConfig=${join(dir, 'plugstack.conf')}`,
      // No cgroups needed: processes are tracked by parentage.
      'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
      'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU', 'MpiDefault=none', 'ReturnToService=2',
      // Arrays start within a second or two instead of at the next scheduling tick.
      'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0',
      `JobCompType=jobcomp/filetxt`, `JobCompLoc=${jobcomp}`, 'MinJobAge=3600', 'MailProg=/bin/true', 'KillWait=5',
      `NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=${Math.floor(memory * 0.9)}`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP', '',
    ].join('\n'));
    // Fresh state: -c clears any saved jobs (the folder is new anyway); -D keeps it in the foreground, so the PID is ours.
    const slurmctld = daemon(dir, 'slurmctld', ['-D', '-c', '-f', conf], env);
    const slurmd = daemon(dir, 'slurmd', ['-D', '-f', conf, '-N', 'localhost'], env);
    const cluster: SlurmCluster = { dir, conf, env, pids: { munged, slurmctld, slurmd }, jobcomp };
    try {
      await waitFor('the node to be idle in sinfo', async () => {
        if (!alive(slurmctld) || !alive(slurmd)) throw new Error('a daemon exited');
        const r = await slurm(cluster, 'sinfo', ['-h', '-N', '-o', '%T']);
        return r.exitCode === 0 && r.stdout.trim() === 'idle';
      }, 30_000);
      return cluster;
    } catch (error) {
      const logs = ['slurmctld.log', 'slurmd.log', 'slurmctld.out', 'slurmd.out'].map((f) => existsSync(join(dir, f)) ? `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}` : '').join('\n');
      await stopDaemons([slurmd, slurmctld]);
      // A port taken between freePort() and the bind: try others.
      if (attempt >= 3) {
        await stopDaemons([munged]);
        throw new Error(`Slurm did not come up (${(error as Error).message}):\n${logs}`);
      }
    }
  }
}

/** SIGTERM, a bounded wait, then SIGKILL: each PID only while it is still the daemon we started. */
async function stopDaemons(pids: readonly number[]): Promise<void> {
  const ours = (pid: number): boolean => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return Object.values(DAEMONS).some((d) => cmd.startsWith(d));
    } catch {
      return false;
    }
  };
  for (const pid of pids) if (alive(pid) && ours(pid)) process.kill(pid, 'SIGTERM');
  try {
    await waitFor('the daemons to exit', () => pids.every((p) => !alive(p)), 10_000);
  } catch {
    for (const pid of pids) if (alive(pid) && ours(pid)) process.kill(pid, 'SIGKILL');
    await waitFor('the daemons to die', () => pids.every((p) => !alive(p)), 5_000);
  }
}

/** Live processes whose environment carries this cluster's SLURM_CONF: slurmstepd and the jobs. */
export function clusterProcesses(cluster: SlurmCluster): number[] {
  const mark = Buffer.from(`SLURM_CONF=${cluster.conf}\0`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid || Object.values(cluster.pids).includes(pid)) continue;
    try {
      if (alive(pid) && readFileSync(`/proc/${pid}/environ`).includes(mark)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Cancels every job, stops the daemons, then kills any job process left. Returns how many job
 * processes had to be killed after the daemons were gone (0 when cancelling did its work).
 */
export async function stopSlurm(cluster: SlurmCluster): Promise<number> {
  if (alive(cluster.pids.slurmctld)) {
    await slurm(cluster, 'scancel', ['--user', userInfo().username]);
    await waitFor('every job to leave the queue', async () => {
      const r = await slurm(cluster, 'squeue', ['-h', '-o', '%i']);
      return r.exitCode !== 0 || r.stdout.trim() === '';
    }, 30_000).catch(() => undefined);
  }
  await stopDaemons([cluster.pids.slurmd, cluster.pids.slurmctld, cluster.pids.munged]);
  const left = clusterProcesses(cluster);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  await waitFor('the job processes to die', () => left.every((p) => !alive(p)), 5_000);
  return left.length;
}
