// Once per test run: build the CLI the tests drive, start the loopback servers, stop exactly them after.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { execFileSync as which } from 'node:child_process';
import { startMoto, stopMoto, type S3Server } from './moto.js';
import { withTools } from './tools.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './sshd.js';
import { findVersitygw, startVersitygw, stopVersitygw } from './versitygw.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sshHost: SshHost | null;
    s3: S3Server | null;
    /** versitygw with non-MD5 (checksum) ETags; null with the reason in versitygwMissing. */
    versitygw: S3Server | null;
    versitygwMissing: string | null;
  }
}

function onPath(program: string): boolean {
  try {
    which('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  process.env.PATH = withTools(process.env.PATH);
  // The run's temp folder (TMPDIR) is tmp-root.ts's, set up before this and removed after it.
  execFileSync('npx', ['tsup', '--silent'], { stdio: 'inherit' });
  // The script bin/labsync.js starts with V8's code cache, as `npm run build` makes it.
  execFileSync('node', ['scripts/build-script.mjs'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'labsync-servers-'));
  let ssh: SshHost | null = null;
  if (sshdAvailable()) ssh = await startSshd(join(dir, 'ssh'));
  else if (process.env.CI) throw new Error('sshd is missing: run the tests through `npm test`, which installs it');
  project.provide('sshHost', ssh);
  let s3: S3Server | null = null;
  if (onPath('moto_server')) s3 = await startMoto(dir);
  else if (process.env.CI) throw new Error('moto_server is missing: run the tests through `npm test`, which installs it');
  project.provide('s3', s3);
  // The second S3 server: built with go when missing (scripts/versitygw.sh). Without it its cases skip,
  // and say why here and in their names; CI must have it.
  const found = findVersitygw();
  const vgw = 'bin' in found ? await startVersitygw(found.bin, dir, { integrityEtag: true }) : null;
  if ('missing' in found) {
    if (process.env.CI) throw new Error(`${found.missing}: run the tests through \`npm test\`, which builds it`);
    process.stderr.write(`\nversitygw: ${found.missing}; the S3 cases run against moto only (sh scripts/versitygw.sh builds it)\n\n`);
  }
  project.provide('versitygw', vgw);
  project.provide('versitygwMissing', 'missing' in found ? found.missing : null);
  return async () => {
    await Promise.all([ssh && stopSshd(ssh), s3 && stopMoto(s3), vgw && stopVersitygw(vgw)]);
    rmSync(dir, { recursive: true, force: true });
  };
}
