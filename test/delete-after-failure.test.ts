// "Deletions only after every transfer succeeded" (issue 12) on the planned paths, as any user can run
// them (not root only, as faults.test.ts's disk-full case): the pair has a file to send and one to
// delete, the send fails for real, and nothing is deleted at the destination.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';
import { processesMentioning } from './harness/processes.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { until } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();
const s3 = inject('s3');

interface Pair { status: string; error: string | null; commands: string[] }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/**
 * A host whose rsync --server may write files of at most 4 KiB (ulimit -f 8: 512-byte blocks in sh),
 * with SIGXFSZ ignored so the write fails with EFBIG and rsync says which file; root is bound by it too.
 */
function smallFileHost(): { dir: string; bin: string } {
  const dir = tempDir('labsync-small-file-host-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const rsync = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
  writeFileSync(join(bin, 'rsync'), `#!/bin/sh
case " $* " in *" --server "*) trap '' XFSZ; ulimit -f 8 ;; esac
exec ${rsync} "$@"
`);
  chmodSync(join(bin, 'rsync'), 0o755);
  return { dir, bin };
}

describe.skipIf(!sshdAvailable())('rsync over ssh: a send that fails deletes nothing', () => {
  let host: SshHost;
  beforeAll(async () => {
    const h = smallFileHost();
    host = await startSshd(join(h.dir, 'sshd'), [`SetEnv PATH=${h.bin}:/usr/local/bin:/usr/bin:/bin`]);
  });
  afterAll(() => stopSshd(host));

  it('the host cannot write the file to send: exit 1, the error names it, the file to delete is still there', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n    max_delete: 100%\n' }));
    lab.write(lab.path('raw/keep.txt'), 'kept').write(lab.path('raw/big.bin'), randomBytes(64 * 1024));
    // The destination as an earlier run left it: keep.txt, and old.txt that the source no longer has.
    lab.write(lab.outside('gpu/raw/keep.txt'), 'kept').write(lab.outside('gpu/raw/old.txt'), 'to delete');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const pair = pairOf(r);
    expect(pair.status).toBe('failed');
    expect(pair.error).toContain('big.bin');
    expect(pair.error).toContain('File too large');
    // The plan had a deletion; it never ran. What rsync wrote of big.bin is in its partial folder, not under the final name.
    const left = lab.tree(lab.outside('gpu/raw'));
    expect(Object.keys(left).filter((p) => !p.startsWith('.rsync-partial/')).sort()).toEqual(['keep.txt', 'old.txt']);
    expect(left['old.txt']).toBe('to delete');
    expect(pair.commands).toHaveLength(1);
    expect(pair.commands[0]).not.toContain('--delete');
    // The same plan with a file the host can write: the deletion runs, after the send.
    lab.write(lab.path('raw/big.bin'), 'small now');
    const again = await lab.cli(['data', 'push', '--json']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(pairOf(again).commands).toHaveLength(2);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ 'keep.txt': 'kept', 'big.bin': 'small now' });
  });
});

/** Whether a process of rclone has `file` open (it has stat-ed it and started reading). */
function rcloneHasOpen(file: string): boolean {
  for (const p of processesMentioning(file.split('/').slice(0, -1).join('/'))) {
    if (!/rclone/.test(p.cmdline)) continue;
    try {
      if (readdirSync(`/proc/${p.pid}/fd`).some((fd) => readlinkOr(`/proc/${p.pid}/fd/${fd}`) === file)) return true;
    } catch {
      // The process ended meanwhile.
    }
  }
  return false;
}

const readlinkOr = (path: string): string | undefined => {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
};

describe.skipIf(!s3)('rclone → S3 (moto): a send that fails deletes nothing', () => {
  const server = s3 as S3Server;

  it('the file to send shrinks while rclone reads it: exit 1, the error names it, the object to delete is still there', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'rclone', '    delete: true\n    max_delete: 100%\n    bwlimit: 300K\n'));
    lab.write(lab.path('raw/keep.txt'), 'kept');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    lab.write(lab.outside('old.txt'), 'to delete');
    await awsCli(server, lab.env, ['s3', 'cp', lab.outside('old.txt'), `s3://${bucket}/lab/raw/old.txt`]);
    const big = lab.path('raw/big.bin');
    lab.write(big, randomBytes(3 * 1024 * 1024));
    const run = lab.spawn(['data', 'push', '--json'], { env: S3_KEYS });
    // Not a timing: once rclone holds the file open it has its size, and at 300 KiB/s it reads for seconds.
    await until('rclone to read big.bin', () => rcloneHasOpen(big), 20_000);
    truncateSync(big, 10);
    const r = await run;
    expect(r.exitCode, `${String(r.stdout)}${String(r.stderr)}`).toBe(1);
    const pair = pairOf({ stdout: String(r.stdout) });
    expect(pair.status).toBe('failed');
    expect(pair.error).toContain('big.bin');
    expect(pair.error).toContain('source file is being updated');
    const listed = await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`]);
    expect(listed).toContain('lab/raw/old.txt');
    expect(listed).toContain('lab/raw/keep.txt');
    expect(existsSync(big)).toBe(true);
    // The same plan once the file holds still: the deletion runs.
    const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    const now = await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`]);
    expect(now).not.toContain('old.txt');
    expect(now).toContain('lab/raw/big.bin');
  });
});

describe.skipIf(!s3)('aws → S3 (moto): a planned file aws skips deletes nothing', () => {
  const server = s3 as S3Server;

  it('a file renamed away after the plan (aws: "Skipping file … does not exist", exit 2): exit 1, naming it; the old name is still there', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'aws', '    delete: true\n    max_delete: 100%\n'));
    lab.write(lab.path('raw/keep.txt'), 'kept').write(lab.path('raw/old-name.txt'), 'renamed');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    execFileSync('mv', [lab.path('raw/old-name.txt'), lab.path('raw/new-name.txt')]);
    lab.write(lab.path('raw/other.txt'), 'other');
    // The real aws, but its staged copy first finds new-name.txt gone (renamed again before the upload).
    const real = execFileSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim();
    const dir = tempDir('labsync-aws-skip-');
    writeFileSync(join(dir, 'aws'), `#!/bin/sh\ncase " $* " in *.labsync/stage*) rm -f '${lab.path('raw/new-name.txt')}';; esac\nexec '${real}' "$@"\n`);
    chmodSync(join(dir, 'aws'), 0o755);
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0', PATH: `${dir}:${process.env.PATH ?? ''}` } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(pairOf(r)).toMatchObject({ status: 'failed', error: expect.stringMatching(/skipped a file it was to copy.*new-name\.txt.*nothing was deleted/s) });
    const listed = await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`]);
    expect(listed).toContain('lab/raw/old-name.txt');
    expect(listed).toContain('lab/raw/other.txt');
  });

  it('the one planned file gone before aws reads it, with nothing to delete after: a warning, as rsync gives (it was a stop, exit 3: a drain\'s first batch is one file)', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'aws'));
    lab.write(lab.path('raw/keep.txt'), 'kept');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    lab.write(lab.path('raw/ckpt-9.pt'), 'rotated away');
    const real = execFileSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim();
    const dir = tempDir('labsync-aws-gone-');
    writeFileSync(join(dir, 'aws'), `#!/bin/sh\ncase " $* " in *" cp "*) rm -f '${lab.path('raw/ckpt-9.pt')}';; esac\nexec '${real}' "$@"\n`);
    chmodSync(join(dir, 'aws'), 0o755);
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0', PATH: `${dir}:${process.env.PATH ?? ''}` } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r).status).toBe('ok');
    expect(r.stdout + r.stderr).toMatch(/skipped/i);
  });
});
