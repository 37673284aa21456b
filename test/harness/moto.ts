// moto_server on 127.0.0.1: a real S3 API for the aws and rclone adapters' tests.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { exited, killExact } from './processes.js';
import { freePort } from './sshd.js';

export interface S3Server { readonly pid: number; readonly endpoint: string; readonly port: number }

/** Fake keys moto accepts; real-looking enough that redaction tests can plant them. */
export const S3_KEYS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'labsync-test-secret-key', AWS_DEFAULT_REGION: 'us-east-1' };

export async function startMoto(dir: string, env: Record<string, string> = {}): Promise<S3Server> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const out = openSync(join(dir, `moto-${port}.log`), 'a');
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...env } });
    child.unref();
    const endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 150; i++) {
      try {
        // Any answer means it is up: with credentials enforced, moto answers 403.
        const r = await fetch(`${endpoint}/`);
        if (r.status > 0) return { pid: child.pid as number, endpoint, port };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    killExact(child.pid as number, 'moto_server');
  }
  throw new Error('moto_server did not start');
}

/** Signalled now; the promise says when it is gone (before its folder may go). */
export function stopMoto(server: S3Server): Promise<void> {
  killExact(server.pid, `-p ${server.port}`);
  return exited(server.pid, `-p ${server.port}`);
}

/** An aws CLI call for test setup and inspection (the adapter under test builds its own). */
export async function awsCli(server: S3Server, env: Record<string, string>, args: readonly string[]): Promise<string> {
  const r = await execa('aws', ['--endpoint-url', server.endpoint, ...args], { env: { ...env, ...S3_KEYS }, extendEnv: false, reject: false });
  if (r.exitCode !== 0) throw new Error(`aws ${args.join(' ')} failed: ${r.stderr}`);
  return String(r.stdout);
}

let buckets = 0;
export async function makeBucket(server: S3Server, env: Record<string, string>): Promise<string> {
  const name = `lab-${process.pid}-${++buckets}-${Date.now() % 100000}`;
  await awsCli(server, env, ['s3', 'mb', `s3://${name}`]);
  return name;
}
