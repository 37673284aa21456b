// The S3 "server killed mid-upload" fault, shared by moto (faults.test.ts) and versitygw
// (faults-versitygw.test.ts): what differs is only how each server is stopped and brought back.
import { randomBytes } from 'node:crypto';
import type { Lab } from './lab.js';
import { awsCli, S3_KEYS, type S3Server } from './moto.js';
import { processesMentioning } from './processes.js';
import { until } from './wait.js';

/** A manifest for one rclone pair pushing raw/ to `bucket` at `endpoint`. */
export const rcloneToBucket = (bucket: string) => (endpoint: string, extra = ''): string =>
  `version: 1\ndefaults:\n  retries: 0\nremotes:\n  st: { type: s3, bucket: ${bucket}, prefix: p, endpoint: "${endpoint}" }\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: st:raw\n${extra}`;

/**
 * Makes `bucket`, starts an rclone push of 3 MiB at 300 KiB/s, and calls `stop` once the upload is
 * under way (the server gone when it resolves). Returns the finished run (its --json on stdout).
 */
export async function pushWhileServerDies(lab: Lab, server: S3Server, bucket: string, stop: () => Promise<void>): Promise<{ exitCode?: number; stdout: unknown }> {
  await awsCli(server, lab.env, ['s3', 'mb', `s3://${bucket}`]);
  lab.manifest(rcloneToBucket(bucket)(server.endpoint, '    bwlimit: 300K\n'));
  lab.write(lab.path('raw/big.bin'), randomBytes(3 * 1024 * 1024)).write(lab.path('raw/small.txt'), 'small');
  const run = lab.spawn(['data', 'push', '--json'], { env: S3_KEYS });
  await until('the upload to start', () => processesMentioning(lab.path('raw')).some((p) => /^\S*rclone\S* copy /.test(p.cmdline)));
  await new Promise((r) => setTimeout(r, 1500));
  await stop();
  return run;
}
