// `labsync schedule --slurm | --kubernetes`: what a cluster scheduler runs, one job per scheduled pair.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError, type ExitCode } from '../errors.js';
import type { Manifest } from '../types.js';
import { cronJobsYaml } from './schedule-kubernetes.js';
import { sbatchScripts, slurmDir, slurmLogDir } from './schedule-slurm.js';
import type { ScheduleOptions } from './schedule.js';

export async function otherScheduler(manifest: Manifest, o: ScheduleOptions): Promise<ExitCode> {
  if (o.kubernetes) {
    if (!o.image?.trim() || /\s/.test(o.image)) throw new UsageError(`--kubernetes needs --image IMAGE: the container image that has labsync and the tools (got ${JSON.stringify(o.image ?? '')})`, 'labsync schedule --kubernetes --image registry.example/lab/labsync:1.0');
    if (o.install || o.remove) throw new UsageError('--kubernetes prints the CronJobs; kubectl applies them', 'labsync schedule --kubernetes --image IMAGE | kubectl apply -f -');
    process.stdout.write(cronJobsYaml(manifest, o.image, Intl.DateTimeFormat().resolvedOptions().timeZone));
    return 0;
  }
  const scripts = sbatchScripts(manifest);
  const dir = slurmDir(manifest.root);
  if (o.remove) {
    for (const s of scripts) rmSync(s.file, { force: true });
    process.stdout.write(`removed ${scripts.length} sbatch script${scripts.length === 1 ? '' : 's'} from ${dir}\n`);
  } else if (o.install) {
    mkdirSync(dir, { recursive: true });
    // Slurm opens the job's --output before the script runs, and fails the job if its folder is missing.
    mkdirSync(slurmLogDir(manifest.root), { recursive: true });
    for (const s of scripts) writeFileSync(s.file, s.text, { mode: 0o755 });
    process.stdout.write(scripts.length
      ? `wrote ${scripts.length} sbatch script${scripts.length === 1 ? '' : 's'} to ${dir}; submit with: ${scripts.map((s) => `sbatch ${s.file}`).join('; ')}\n`
      : '# no pair in this manifest has a schedule:\n');
  } else {
    process.stdout.write(scripts.length ? scripts.map((s) => `# ${s.file}\n${s.text}`).join('\n') : '# no pair in this manifest has a schedule:\n');
  }
  return 0;
}
