// versitygw on 127.0.0.1: a second, real S3 implementation beside moto. Unlike moto it refuses a wrong
// secret, an unknown access key and a wrong Content-MD5, and with --data-integrity-etag its ETags are
// checksums ("SHA256-…", "CRC32-…"), not MD5s: what AWS with SSE-KMS and CRC-ETag servers do to a verifier.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3_KEYS, type S3Server } from './moto.js';
import { exited, killExact } from './processes.js';
import { freePort } from './sshd.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'versitygw.sh');

/** The binary (built into .tools/bin by scripts/versitygw.sh when go is present), or why there is none. */
export function findVersitygw(): { bin: string } | { missing: string } {
  try {
    return { bin: execFileSync('sh', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').pop();
    return { missing: stderr || (error as Error).message };
  }
}

export interface VersitygwOptions {
  /** ETags derived from the data-integrity checksum instead of MD5. */
  readonly integrityEtag?: boolean;
  /** The ETag of files placed in the bucket folder behind the gateway's back (no stored ETag). */
  readonly defaultEtag?: string;
  /** The folder holding the buckets: given, a restarted server serves what the last one stored. */
  readonly root?: string;
}

/** Same keys as moto's, so a test's credentials work against either server. */
export async function startVersitygw(bin: string, dir: string, o: VersitygwOptions = {}): Promise<S3Server & { readonly root: string }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const root = o.root ?? join(dir, `versitygw-${port}`);
    mkdirSync(root, { recursive: true });
    const out = openSync(join(dir, `versitygw-${port}.log`), 'a');
    const args = ['--port', `127.0.0.1:${port}`, '--region', S3_KEYS.AWS_DEFAULT_REGION, '--quiet', 'posix',
      ...(o.integrityEtag ? ['--data-integrity-etag'] : []), ...(o.defaultEtag ? ['--default-etag', o.defaultEtag] : []), root];
    const child = spawn(bin, args, {
      stdio: ['ignore', out, out], detached: true,
      env: { PATH: process.env.PATH ?? '', ROOT_ACCESS_KEY: S3_KEYS.AWS_ACCESS_KEY_ID, ROOT_SECRET_KEY: S3_KEYS.AWS_SECRET_ACCESS_KEY },
    });
    child.unref();
    const endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        // Any answer means it is up (anonymous requests get 403).
        if ((await fetch(`${endpoint}/`)).status > 0) return { pid: child.pid as number, endpoint, port, root };
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    killExact(child.pid as number, `127.0.0.1:${port}`);
  }
  throw new Error('versitygw did not start');
}

/** Signalled now; the promise says when it is gone (before its folder may go). */
export function stopVersitygw(server: S3Server): Promise<void> {
  killExact(server.pid, `127.0.0.1:${server.port}`);
  return exited(server.pid, `127.0.0.1:${server.port}`);
}
