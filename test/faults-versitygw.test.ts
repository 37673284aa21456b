// The S3 fault cases of faults.test.ts against a second, real S3 implementation: versitygw. moto takes
// any key and any signature; versitygw, like AWS, refuses a wrong secret and an unknown access key.
import { describe, expect, inject, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { awsCli, S3_KEYS, type S3Server } from './harness/moto.js';
import { processesMentioning } from './harness/processes.js';
import { findVersitygw, startVersitygw, stopVersitygw } from './harness/versitygw.js';
import { pushWhileServerDies, rcloneToBucket } from './harness/s3-faults.js';

const vgw = inject('versitygw');
const vgwMissing = inject('versitygwMissing');
type Pair = { status: string; error: string | null; attempts: number; warnings: string[]; verify: { status: string; unproven?: string[] } | null; commands: string[] };
const pairOf = (r: { stdout: string }): Pair => (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs[0] as Pair;

describe.skipIf(!vgw)('faults on versitygw (a real S3 server)', () => {
  const server = vgw as S3Server;

  // Each case runs a whole push (three aws calls a case): minutes on a busy two-core machine.
  it.each(['aws', 'rclone'])('9. a wrong secret, an unknown access key, no credentials: one clear message each, not retried — %s', async (tool) => {
    const lab = new Lab();
    const bucket = `creds-${process.pid}-${Date.now() % 100000}`;
    await awsCli(server, lab.env, ['s3', 'mb', `s3://${bucket}`]);
    lab.write(lab.path('raw/a'), 'a');
    const keys = (id: string, secret: string): Record<string, string> => ({ AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1' });
    const cases: [string, Record<string, string>, RegExp][] = [
      ['wrong secret', keys(S3_KEYS.AWS_ACCESS_KEY_ID, 'wrong-secret-value-123'), /SignatureDoesNotMatch/],
      ['unknown access key', keys('AKIAUNKNOWNKEY000000', 'wrong-secret-value-123'), /XAdminUserNotFound|InvalidAccessKeyId/],
      ['no credentials', { AWS_DEFAULT_REGION: 'us-east-1' }, /Unable to locate credentials|NoCredentialProviders|failed to refresh cached credentials/],
    ];
    lab.manifest(`version: 1\ndefaults:\n  retries: 3\nremotes:\n  st: { type: s3, bucket: ${bucket}, prefix: p, endpoint: "${server.endpoint}" }\ndata:\n  - { name: raw, tool: ${tool}, local: raw, remote: "st:raw" }\n`);
    for (const [what, env, said] of cases) {
      const r = await lab.cli(['data', 'push', '--json'], { env });
      expect(r.exitCode, `${tool}, ${what}: ${r.stdout}`).toBe(1);
      expect(pairOf(r), `${tool}, ${what}`).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^credentials refused: /) });
      expect(pairOf(r).error, `${tool}, ${what}`).toMatch(said);
      expect(r.stdout + r.stderr).not.toContain('wrong-secret-value-123');
    }
    expect((await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/`])).trim()).toBe('');
  }, 240_000);

  it('4a. the server killed mid-upload: a transient failure, no partial object, and the next run completes and verifies by hash', async () => {
    const lab = new Lab();
    const found = findVersitygw();
    if (!('bin' in found)) throw new Error(found.missing);
    // MD5 ETags this time, so rclone's check compares hashes on a real server.
    const root = lab.outside('gw');
    let own = await startVersitygw(found.bin, lab.root, { root });
    try {
      const bucket = 'fault-bucket';
      const manifest = rcloneToBucket(bucket);
      const done = await pushWhileServerDies(lab, own, bucket, () => stopVersitygw(own));
      expect(done.exitCode).toBe(1);
      expect(pairOf({ stdout: String(done.stdout) })).toMatchObject({ status: 'failed', error: expect.stringMatching(/connection refused|EOF|connection reset/i) });
      expect(processesMentioning(lab.root).filter((p) => !p.cmdline.includes('versitygw'))).toEqual([]);
      // Restarted on the same folder: what it kept is whole or absent, never a partial big.bin.
      own = await startVersitygw(found.bin, lab.root, { root });
      const kept = await awsCli(own, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--output', 'json']);
      const objects = kept.trim() ? ((JSON.parse(kept) as { Contents?: { Key: string; Size: number }[] }).Contents ?? []) : [];
      for (const o of objects.filter((x) => x.Key.endsWith('big.bin'))) expect(o.Size).toBe(3 * 1024 * 1024);
      lab.manifest(manifest(own.endpoint));
      const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(again.exitCode, again.stdout).toBe(0);
      expect(pairOf(again)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      expect(pairOf(again).verify?.unproven).toBeUndefined();
    } finally {
      await stopVersitygw(own);
    }
  }, 240_000);
});

// Registered only when versitygw is missing, so the report says why these cases did not run.
if (!vgw) {
  describe('faults on versitygw (a real S3 server)', () => {
    it.skip(`cannot run: ${vgwMissing ?? 'versitygw is unavailable'}`, () => undefined);
  });
}
