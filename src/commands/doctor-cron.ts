// `labsync doctor --cron`: what works in your shell but breaks under cron, which starts with
// PATH=/usr/bin:/bin, no ssh-agent, no terminal and none of your shell's variables.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeRedactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import { which } from '../exec/which.js';
import type { Manifest } from '../types.js';

export const CRON_PATH = '/usr/bin:/bin';

export interface CronProblem { readonly pair?: string; readonly problem: string; readonly fix: string }

async function passphraseNeeded(identity: string): Promise<boolean> {
  const out = await run({ tool: 'ssh-keygen', args: ['-y', '-P', '', '-f', identity], cwd: '/', mutates: false, label: 'key check' }, { redact: makeRedactor(process.env), timeoutMs: 10_000 });
  return out.exitCode !== 0;
}

export async function cronProblems(manifest: Manifest, env: NodeJS.ProcessEnv = process.env): Promise<CronProblem[]> {
  const problems: CronProblem[] = [];
  const cronDirs = new Set(CRON_PATH.split(':'));
  const programs = new Set<string>(manifest.pairs.flatMap((p) => [p.tool, ...(p.remote.type === 'ssh' ? ['ssh'] : [])]));
  for (const program of programs) {
    const path = await which(program, env.PATH);
    if (path && !cronDirs.has(dirname(path))) {
      problems.push({
        problem: `${program} is at ${path}, outside cron's PATH (${CRON_PATH})`,
        fix: '`labsync schedule` lines carry your PATH; a hand-written cron line needs PATH=… before the command',
      });
    }
  }
  for (const p of manifest.pairs) {
    const r = p.remote;
    if (r.type === 'ssh') {
      if (!r.identity) {
        problems.push({ pair: p.name, problem: 'no identity: ssh will try ssh-agent, which cron does not have', fix: 'set `identity:` on the remote to a key without a passphrase, restricted to this job' });
      } else if (!existsSync(r.identity)) {
        problems.push({ pair: p.name, problem: `identity ${r.identity} does not exist`, fix: 'point `identity:` at the private key file' });
      } else if (await passphraseNeeded(r.identity)) {
        problems.push({ pair: p.name, problem: `identity ${r.identity} needs a passphrase: nobody can type it under cron`, fix: 'use a dedicated key without a passphrase (ssh-keygen -t ed25519 -N "")' });
      }
    }
    if (r.type === 's3' && !r.profile && !r.instanceCredentials) {
      const shared = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials');
      if (env.AWS_ACCESS_KEY_ID && !existsSync(shared)) {
        problems.push({ pair: p.name, problem: 'AWS credentials come from your shell\'s environment, which cron does not have', fix: 'give the remote a `profile:` from ~/.aws/credentials' });
      }
    }
  }
  return problems;
}
