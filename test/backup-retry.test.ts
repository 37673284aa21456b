// A transfer that fails after writing its files and is run again must keep the old versions the
// backup took (a review found them overwritten by the new ones: aws's backup copies ran again after
// the objects were replaced; rclone moved its fresh copies over the backups of the same name). The
// real aws-cli and rclone against moto on 127.0.0.1; a wrapper on PATH runs the real tool's first
// upload, then reports a dropped connection, as when its last answer is lost.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Doc { pairs: { status: string; error: string | null; attempts: number; warnings: string[]; verify: { status: string } | null }[] }

/** A PATH whose `tool` is the real one, except that its first call matching `upload` runs and then fails as `fail` says. */
function flakyUpload(lab: Lab, tool: string, upload: string, fail: string): Record<string, string> {
  const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  const dir = lab.outside(`flaky-${tool}`);
  mkdirSync(dir, { recursive: true });
  const mark = join(dir, 'failed-once');
  writeFileSync(join(dir, tool), `#!/bin/sh\ncase " $* " in *${upload}*) if [ ! -e '${mark}' ]; then : > '${mark}'; '${real}' "$@"; ${fail}; fi;; esac\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, tool), 0o755);
  return { PATH: `${dir}:${process.env.PATH ?? ''}` };
}

describe.skipIf(!s3)('backups survive a transfer run again after a transient failure (moto)', () => {
  const server = s3 as S3Server;

  for (const tool of ['aws', 'rclone'] as const) {
    it(`${tool}: the replaced objects' old versions stay in the backup; the run says ok after its retry`, async () => {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      lab.manifest(s3PairManifest(server, bucket, tool, '    backup: true\n    retries: 1\n    retry_delay: 100ms\n'));
      for (const f of ['a', 'b', 'c']) lab.write(lab.path('raw', f), `old ${f}`);
      expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
      lab.write(lab.path('raw/a'), 'new a').write(lab.path('raw/b'), 'new b');

      const env = tool === 'aws'
        ? { ...S3_KEYS, LABSYNC_S3_PUT: '0', ...flakyUpload(lab, 'aws', '.labsync/stage', "echo 'Connection reset by peer' >&2; exit 1") }
        : { ...S3_KEYS, ...flakyUpload(lab, 'rclone', '--files-from-raw', "echo 'connection reset by peer' >&2; exit 5") };
      const r = await lab.cli(['data', 'push', '--json'], { env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', attempts: 2, verify: { status: 'in_sync' } });

      const keys = (JSON.parse(await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'json'])) as string[]).sort();
      const read = (key: string): Promise<string> => awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/${key}`, '-']);
      const backup = (name: string): string | undefined => keys.find((k) => new RegExp(`/\\.labsync-backup/[^/]+/${name}$`).test(k));
      // The backup under the file's own name holds its old version, whichever tool took it.
      expect(await read(backup('a') as string)).toBe('old a');
      expect(await read(backup('b') as string)).toBe('old b');
      expect(backup('c')).toBeUndefined();
      expect(await read('lab/raw/a')).toBe('new a');
      // rclone's rerun sends every listed file again: what it moves aside then has a name of its own.
      if (tool === 'rclone') expect(keys.filter((k) => /\.attempt2$/.test(k)).map((k) => k.replace(/^.*\//, '')).sort()).toEqual(['a.attempt2', 'b.attempt2']);
    });
  }
});

describe('backups survive a retried rsync transfer (a local folder remote)', () => {
  it('a same-size, same-mtime edit the verify finds is repaired (--ignore-times), the repair retried: the old version stays in the backup, each rerun\'s copy under its own name', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    backup: true\n    retries: 1\n    retry_delay: 100ms\n`);
    for (const f of ['a', 'b']) lab.write(lab.path('raw', f), `old ${f}`);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    // The same size and mtime, other bytes: the plan's quick check passes it, the verify finds it, and the
    // repair sends it with --ignore-times; the wrapper fails that first send, so the repair is retried.
    execFileSync('touch', ['-r', lab.path('raw/a'), lab.outside('a-times')]);
    lab.write(lab.path('raw/a'), 'new a');
    execFileSync('touch', ['-r', lab.outside('a-times'), lab.path('raw/a')]);
    const env = flakyUpload(lab, 'rsync', '--files-from', "echo 'rsync error: error in rsync protocol data stream (code 12)' >&2; exit 12");
    const r = await lab.cli(['data', 'push', '--json'], { env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', attempts: 2, verify: { status: 'in_sync' } });
    const nas = lab.tree(lab.outside('nas'));
    const backups = Object.entries(nas).filter(([k]) => k.startsWith('.labsync-backup/')).map(([k, v]) => [k.replace(/^\.labsync-backup\/[^/]+\//, ''), v]);
    expect(Object.fromEntries(backups)).toEqual({ 'a.repair': 'old a', 'a.repair-attempt2': 'new a' });
    expect(nas.a).toBe('new a');
  });
});
