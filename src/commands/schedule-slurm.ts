// `labsync schedule --slurm`: one sbatch script per scheduled pair, a job array with one task per shard.
import { join } from 'node:path';
import { logsDir, stateDir } from '../state/paths.js';
import type { Manifest, ResolvedPair } from '../types.js';
import { carriedEnv, labsyncArgv, shellQuote } from './schedule.js';

/** Where `--install` writes the scripts: beside the rest of labsync's state for this manifest. */
export const slurmDir = (root: string): string => join(stateDir(root), 'slurm');
/** Where the jobs write their output; Slurm does not make the folder, so `--install` does. */
export const slurmLogDir = (root: string): string => join(logsDir(root), 'slurm');

export interface BatchScript {
  readonly pair: string;
  readonly shards: number;
  /** The path `--install` writes. */
  readonly file: string;
  readonly text: string;
}

/** A Slurm duration: [D-]HH:MM:SS, rounded up to the minute. */
export function slurmTime(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
  return d ? `${d}-${hms}` : hms;
}

/** An #SBATCH value with a space in it: sbatch takes a double-quoted value whole. */
const directiveValue = (v: string): string => (/[\s"']/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v);

const shardsOf = (pair: ResolvedPair): number => pair.shards ?? 1;

export function sbatchScript(manifest: Manifest, pair: ResolvedPair, env: NodeJS.ProcessEnv = process.env): BatchScript {
  const shards = shardsOf(pair);
  const file = join(slurmDir(manifest.root), `${pair.name}.sbatch`);
  const array = shards > 1;
  // %A is the array's job id and %a the task's index; %j a plain job's id; %% a % of the path itself.
  const log = join(slurmLogDir(manifest.root).replace(/%/g, '%%'), array ? `${pair.name}-%A_%a.log` : `${pair.name}-%j.log`);
  // labsync stops an attempt at `timeout` and makes at most retries + 1: that bounds the transfers.
  const limit = slurmTime(pair.timeoutMs * (pair.retries + 1));
  const argv = labsyncArgv(manifest).map(shellQuote);
  // The shard is named explicitly, from the task's own index and the manifest's N: a task resubmitted
  // alone (`sbatch --array=2`) sees SLURM_ARRAY_TASK_COUNT=1, so the count must not come from Slurm.
  const shard = array ? ['--shard', `"\${SLURM_ARRAY_TASK_ID:?not a Slurm array task: submit with sbatch}/${shards}"`] : [];
  const text = [
    '#!/bin/sh',
    `# labsync pair ${pair.name} of ${manifest.file}${array ? `, as a job array: one task per shard (shards: ${shards})` : ''}.`,
    '# Written by `labsync schedule --slurm`: change the manifest and run that again rather than editing this.',
    ...(pair.schedule ? [`# Its schedule (${pair.schedule}): submit it then, e.g. from cron: sbatch ${file}`] : []),
    ...(array ? [`# One shard again (after a failure or scancel): sbatch --array=K ${file}`] : []),
    `# The log folder must exist before the job starts: mkdir -p ${slurmLogDir(manifest.root)} (--install makes it).`,
    `#SBATCH --job-name=labsync-${pair.name}`,
    ...(array ? [`#SBATCH --array=0-${shards - 1}`] : []),
    `#SBATCH --output=${directiveValue(log)}`,
    `#SBATCH --time=${limit}`,
    // B: signals the batch shell, which `exec` makes labsync itself (there is no srun step to signal):
    // 60 s before the limit it stops its tools and records the run as interrupted, instead of being
    // SIGKILLed mid-file KillWait seconds after the limit's own SIGTERM.
    '#SBATCH --signal=B:TERM@60',
    `cd ${shellQuote(manifest.root)} || exit 2`,
    `${carriedEnv(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')} exec ${[...argv, 'sync', ...shard, shellQuote(pair.name)].join(' ')}`,
    '',
  ].join('\n');
  return { pair: pair.name, shards, file, text };
}

/** One script per pair that has a schedule. */
export function sbatchScripts(manifest: Manifest, env: NodeJS.ProcessEnv = process.env): BatchScript[] {
  return manifest.pairs.filter((p) => p.schedule).map((p) => sbatchScript(manifest, p, env));
}
