// Once per test run: build the CLI the tests drive, start the loopback servers, stop exactly them after.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './sshd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sshHost: SshHost | null;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  execFileSync('npx', ['tsup', '--silent'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'labsync-servers-'));
  let ssh: SshHost | null = null;
  if (sshdAvailable()) ssh = await startSshd(join(dir, 'ssh'));
  else if (process.env.CI) throw new Error('sshd is missing: run the tests through `npm test`, which installs it');
  project.provide('sshHost', ssh);
  return () => {
    if (ssh) stopSshd(ssh);
    rmSync(dir, { recursive: true, force: true });
  };
}
