// rclone: local folders, the loopback S3 (moto) through an env-defined remote, and bisync.
import { existsSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { bisyncLab } from './harness/bisync.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';
import { processesMentioning } from './harness/processes.js';
import { rcloneUnderTest } from './harness/tools.js';

const rclone = rcloneUnderTest();

// null only off CI on a machine without moto_server (global-setup fails a CI run instead): these cases then skip.
const s3 = inject('s3');
interface Doc { pairs: { status: string; error: string | null; hint?: string; warnings: string[]; files: number; verify: { status: string; checked: number; changed: string[] } | null; commands: string[] }[] }

describe('rclone', () => {
  it('copies and mirrors local folders, verified by hash, without creating ~/.config/rclone', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: file://${lab.outside('nas raw')}\n    delete: true\n    backup: true\n`);
    for (let i = 0; i < 6; i++) lab.write(lab.path('raw', `f${i}.csv`), `row ${i}\n`);
    lab.write(lab.path('raw/-dash ü.csv'), 'odd');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', files: 7, verify: { status: 'in_sync', checked: 7 } });
    expect(lab.tree(lab.outside('nas raw'))).toEqual(lab.tree(lab.path('raw')));
    expect(existsSync(lab.outside('home/.config/rclone/rclone.conf'))).toBe(true);
    expect(readFileSync(lab.outside('home/.config/rclone/rclone.conf'), 'utf8')).toBe('');
    lab.write(lab.path('raw/f1.csv'), 'new\n');
    unlinkSync(lab.path('raw/f2.csv'));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const [stamp] = readdirSync(lab.outside('nas raw/.labsync-backup'));
    expect(lab.tree(lab.outside('nas raw/.labsync-backup', stamp as string))).toEqual({ 'f1.csv': 'row 1\n', 'f2.csv': 'row 2\n' });

    // A home with no rclone config at all: no call of labsync's (not even `rclone version`) makes one.
    const fresh = new Lab();
    rmSync(fresh.outside('home/.config/rclone'), { recursive: true, force: true });
    delete fresh.env.RCLONE_CONFIG; // the harness names an empty one; a user may have none at all
    fresh.manifest(`version: 1\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: file://${fresh.outside('nas')}\n`);
    fresh.write(fresh.path('raw/a.csv'), 'a\n');
    expect((await fresh.cli(['data', 'push'])).exitCode).toBe(0);
    expect(existsSync(fresh.outside('home/.config/rclone'))).toBe(false);
  });

  describe.skipIf(!s3)('against S3 (moto on 127.0.0.1)', () => {
    const server = s3 as S3Server;
    const manifest = (bucket: string, extra = ''): string => s3PairManifest(server, bucket, 'rclone', extra);

    it('pushes through an env-defined remote with no secret in argv, plan or output; verify catches corruption', async () => {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      lab.manifest(manifest(bucket, '    delete: true\n'));
      for (let i = 0; i < 4; i++) lab.write(lab.path('raw', `f${i}.bin`), randomBytes(2048));
      const env = { ...S3_KEYS, AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' };
      const r = await lab.cli(['data', 'push', '--json'], { env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const doc = json<Doc>(r);
      expect(doc.pairs[0]).toMatchObject({ status: 'ok', files: 4, verify: { status: 'in_sync', checked: 4 } });
      const listing = await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`]);
      expect(listing.trim().split('\n')).toHaveLength(4);
      const plan = await lab.cli(['plan'], { env });
      for (const text of [r.stdout, r.stderr, plan.stdout, JSON.stringify(doc)]) expect(text).not.toContain(S3_KEYS.AWS_SECRET_ACCESS_KEY);
      expect(plan.stdout).toContain('RCLONE_CONFIG_LABSYNCS3_ENV_AUTH=true');

      // Same size, different bytes, uploaded behind labsync's back.
      const corrupt = lab.outside('corrupt.bin');
      writeFileSync(corrupt, randomBytes(2048));
      await awsCli(server, lab.env, ['s3', 'cp', corrupt, `s3://${bucket}/lab/raw/f2.bin`]);
      const check = await lab.cli(['data', 'status', '--json'], { env });
      expect(check.exitCode).toBe(4);
      const again = await lab.cli(['data', 'push', '--json'], { env });
      expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    });

    it('refuses a mirror that would empty the bucket prefix; the bucket keeps every object', async () => {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      lab.manifest(manifest(bucket, '    delete: true\n'));
      for (let i = 0; i < 4; i++) lab.write(lab.path('raw', `f${i}`), `${i}`);
      expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
      for (let i = 0; i < 3; i++) unlinkSync(lab.path('raw', `f${i}`));
      const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(r.exitCode).toBe(3);
      expect(json<Doc>(r).pairs[0]?.error).toContain('would delete 3 of 4 files at the destination (75%), over max_delete 50%');
      expect((await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`])).trim().split('\n')).toHaveLength(4);
    });

    it('fails clearly, without retrying, when the bucket does not exist', async () => {
      const lab = new Lab();
      lab.manifest(manifest('no-such-bucket-here').replace('retries: 0', 'retries: 2'));
      lab.write(lab.path('raw/a'), 'a');
      const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(r.exitCode).toBe(1);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/bucket does not exist/i) });
    });
  });
});

describe('rclone bisync', () => {

  it('refuses a first run without an explicit --resync (exit 3, naming the command), then converges both ways', async () => {
    const lab = bisyncLab();
    const first = await lab.cli(['sync', '--json']);
    expect(first.exitCode).toBe(3);
    expect(json<Doc>(first).pairs[0]).toMatchObject({ status: 'refused', hint: expect.stringContaining('labsync sync shared --resync') });
    expect((await lab.cli(['sync', '--resync'])).exitCode).toBe(0);
    lab.write(lab.path('notes/local-new'), 'L');
    lab.write(lab.outside('other/remote-new'), 'R');
    const second = await lab.cli(['sync', '--json']);
    expect(second.exitCode, second.stdout).toBe(0);
    expect(lab.tree(lab.path('notes'))).toEqual(lab.tree(lab.outside('other')));
    expect(Object.keys(lab.tree(lab.path('notes')))).toEqual(expect.arrayContaining(['local-new', 'remote-new']));
    expect(existsSync(lab.path('.labsync/bisync/shared'))).toBe(true);
  });

  it('reports a change made on both sides and keeps both versions', async () => {
    const lab = bisyncLab();
    await lab.cli(['sync', '--resync']);
    lab.write(lab.path('notes/c'), 'local edit');
    lab.write(lab.outside('other/c'), 'remote edit');
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<Doc>(r).pairs[0]?.warnings.join(' ')).toMatch(/changed on both sides.*: c/);
    // rclone 1.60 names the copies NAME..path1/2, ≥ 1.66 NAME.conflict1/2 (labsync passes keep-both as --conflict-resolve none).
    const [mine, theirs] = rclone.modern ? ['c.conflict1', 'c.conflict2'] : ['c..path1', 'c..path2'];
    expect(lab.tree(lab.path('notes'))).toMatchObject({ [mine]: 'local edit', [theirs]: 'remote edit' });
  });

  // rclone ≥ 1.66 recovers by itself instead (--resilient --recover): test/bisync-current.test.ts.
  it.skipIf(rclone.modern)('after an interrupted run (rclone 1.60), stops safely and asks for --resync instead of guessing', async () => {
    const lab = bisyncLab();
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('mode: bisync', 'mode: bisync\n    bwlimit: 100K'));
    await lab.cli(['sync', '--resync']);
    lab.write(lab.path('notes/big'), randomBytes(3 * 1024 * 1024));
    const run = lab.spawn(['sync']);
    const deadline = Date.now() + 15_000;
    // The transfer, not the dry run before it: under load a signal 800 ms after the dry run started could land in it.
    const transferring = (): boolean => processesMentioning(lab.outside('other')).some((p) => p.cmdline.includes('bisync') && !p.cmdline.includes('--dry-run'));
    while (!transferring() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 800));
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(130);
    const next = await lab.cli(['sync', '--json']);
    expect(next.exitCode, next.stdout + next.stderr).toBe(3);
    expect(json<Doc>(next).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/bisync/) });
  });

  it('refuses a bisync from an empty local folder', async () => {
    const lab = bisyncLab();
    await lab.cli(['sync', '--resync']);
    for (const f of ['a', 'b', 'c', 'd', 'e']) unlinkSync(lab.path('notes', f));
    const r = await lab.cli(['sync']);
    expect(r.exitCode).toBe(3);
    expect(Object.keys(lab.tree(lab.outside('other')))).toHaveLength(5);
  });
});
