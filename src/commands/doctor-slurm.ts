// doctor's Slurm line: sbatch's version. Every Slurm client reads a cluster config before anything else,
// even for --version; without one (SLURM_CONF, /etc/slurm/slurm.conf) it looks the controller up in DNS
// (SRV records) and fails. A two-line stand-in config answers --version without contacting anything.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRedactor } from '../exec/redact.js';
import { run } from '../exec/run.js';

export async function sbatchVersion(): Promise<string | undefined> {
  const own = process.env.SLURM_CONF || existsSync('/etc/slurm/slurm.conf');
  const dir = own ? undefined : mkdtempSync(join(tmpdir(), 'labsync-doctor-'));
  try {
    if (dir) writeFileSync(join(dir, 'slurm.conf'), 'ClusterName=labsync-doctor\nSlurmctldHost=localhost\n');
    const out = await run({ tool: 'sbatch', args: ['--version'], cwd: process.cwd(), mutates: false, label: 'sbatch version', ...(dir ? { env: { SLURM_CONF: join(dir, 'slurm.conf') } } : {}) }, { redact: makeRedactor(), timeoutMs: 15_000 });
    return /^slurm(?:-wlm)? (\S+)/m.exec(out.stdout)?.[1];
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
