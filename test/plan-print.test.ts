// `labsync plan` (without --save) prints the commands a run executes (issue 12, item 5): each printed
// command line is compared with what a real run then ran — its --json commands, and for the listings
// (which --json does not name) the argv that find and ssh were started with, recorded by a shim on
// PATH that then runs the real tool. rsync local and over the test sshd, aws and rclone against moto.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { formatCommand } from '../src/exec/format.js';
import { json, Lab, type CliResult } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';
import type { SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow } from './harness/wait.js';

const ssh = inject('sshHost');
const s3 = inject('s3');

interface Step { step: string; command?: string; note?: string; cwd?: string }
interface Planned { name: string; tool: string; planned?: boolean; steps: Step[] }
interface Ran { status: string; files: number; commands: string[] }
const planOf = (r: CliResult): Planned => (json<{ pairs: Planned[] }>(r).pairs[0] as Planned);
const ranOf = (r: CliResult): Ran => (json<{ pairs: Ran[] }>(r).pairs[0] as Ran);
const STDIN = '< (the files the plan lists)';

/** A run's command as plan words what only the run knows: how many paths, pages, planned keys, objects. */
const asPlanned = (line: string): string => stampless(line)
  .replace(/< \(\d+ paths\)$/, STDIN)
  .replace(/ \(labsync's own listing, [^)]*\)$/, " (labsync's own listing)")
  .replace(/ list-objects-v2 of \d+ planned keys? /, ' list-objects-v2 of the planned keys ')
  .replace(/^PUT \d+ objects? \(\d+ bytes\)/, 'PUT the planned objects')
  .replace(/DELETE \d+ objects?/, 'DELETE the planned deletions');

/** A run's stamp (its dated stage or backup folder) is the time it started: the plan's is its own. */
const stampless = (line: string): string => line.replace(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z/g, '<stamp>');

/** `find` and `ssh` on PATH record their working folder and argv, then run the real tool. */
function shim(lab: Lab): { env: Record<string, string>; started: (tool: string) => { cwd: string; args: string[] }[] } {
  const bin = lab.outside('shim');
  const log = lab.outside('started');
  mkdirSync(bin, { recursive: true });
  mkdirSync(log, { recursive: true });
  for (const tool of ['find', 'ssh']) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { env: lab.env, encoding: 'utf8' }).trim();
    writeFileSync(join(bin, tool), `#!/bin/sh\nf=$(mktemp "${log}/${tool}.XXXXXX")\n{ pwd; printf '\\0'; for a in "$@"; do printf '%s\\0' "$a"; done; } > "$f"\nexec ${real} "$@"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return {
    env: { PATH: `${bin}:${lab.env.PATH}` },
    started: (tool) => readdirSync(log).filter((f) => f.startsWith(`${tool}.`)).map((f) => {
      const [cwd, ...args] = readFileSync(join(log, f), 'utf8').split('\0');
      return { cwd: (cwd as string).trim(), args: args.slice(0, -1) };
    }),
  };
}

/**
 * Every command the run logged after its listings is printed; and every printed command of the usual
 * plan (not one said to be for another plan: "when …") is one the run logged, with the same argv.
 */
function sameCommands(plan: Planned, ran: Ran): void {
  // Listings and the compression asks are not in --json's commands: sameFinds and the ssh shim check those.
  const printed = plan.steps.filter((s) => s.command && s.step !== 'list' && s.step !== 'compress').map((s) => ({ ...s, command: stampless(s.command as string) }));
  const logged = ran.commands.map(asPlanned).filter((c) => !/list-objects-v2 prefix=/.test(c));
  expect(logged.length).toBeGreaterThan(0);
  for (const c of logged) expect(printed.map((s) => s.command)).toContain(c);
  for (const s of printed.filter((p) => !p.note?.startsWith("when "))) expect(logged, `${s.command}\nnot run; the run ran\n${logged.join("\n")}`).toContain(s.command);
}

/** The printed listings of folders are exactly the find calls the run started in those folders. */
function sameFinds(plan: Planned, started: { cwd: string; args: string[] }[]): void {
  const finds = plan.steps.filter((s) => s.step === 'list' && s.cwd !== undefined);
  expect(finds.length).toBeGreaterThan(0);
  const ran = started.map((s) => `${s.cwd} ${formatCommand({ tool: 'find', args: s.args, cwd: s.cwd, env: { LC_ALL: 'C' }, mutates: false, label: '' }, (t) => t)}`);
  for (const f of finds) expect(ran).toContain(`${f.cwd} ${f.command}`);
}

describe('plan prints what a run executes: rsync to a local folder', () => {
  it('the finds of both sides, the transfer of the planned files and the deletions, as the run then ran them', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  nas: { type: local, path: "${lab.outside('nas')}" }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n    exclude: ["*.tmp"]\n`);
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `d${i % 2}`, `f${i}`), `file ${i}`);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    lab.write(lab.path('raw/d0/f0'), 'changed').write(lab.path('raw/new'), 'new').write(lab.outside('nas/raw/extra'), 'only there');

    const shown = await lab.cli(['plan', 'data', 'push']);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^# data\.raw: push with rsync: labsync lists both sides/m);
    expect(shown.stdout).toMatch(/^LC_ALL=C find \. .*# list: the local side/m);
    expect(shown.stdout).toMatch(/^rsync .*--files-from=- --from0 .*< \(the files the plan lists\) +# transfer: exactly the files the plan lists/m);
    expect(shown.stdout).toMatch(/^rsync .*--delete-missing-args .* +# delete: /m);
    expect(shown.stdout).toMatch(/^# verify: labsync lists both sides again .*compares the listings; proves the files rsync wrote by rsync.s own whole-file transfer checksum .*hashes \(sha256\) only the other files/m);
    // The old shape is gone: no dry run, no whole-tree checksum pass.
    expect(shown.stdout).not.toMatch(/--dry-run|--checksum/);
    const plan = planOf(await lab.cli(['plan', 'data', 'push', '--json']));
    expect(plan).toMatchObject({ tool: 'rsync', planned: true });
    // The usual transfer, a plan with a file of 1 MiB or more (--partial-dir), a first copy (the tree), a same-size replace.
    expect(plan.steps.map((s) => s.step)).toEqual(['list', 'list', 'plan', 'transfer', 'transfer', 'transfer', 'transfer', 'delete', 'verify']);
    expect(plan.steps.filter((s) => s.step === 'transfer').map((s) => (s.command ?? '').includes('--partial-dir'))).toEqual([false, true, false, false]);
    // plan ran nothing: the destination is as it was.
    expect(readFileSync(lab.outside('nas/raw/d0/f0'), 'utf8')).toBe('file 0');

    const { env, started } = shim(lab);
    // plan itself lists nothing: no find started.
    expect((await lab.cli(['plan', 'data', 'push'], { env })).exitCode).toBe(0);
    expect(started('find')).toHaveLength(0);
    const run = await lab.cli(['data', 'push', '--json'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(ranOf(run)).toMatchObject({ status: 'ok', files: 2 });
    sameCommands(plan, ranOf(run));
    sameFinds(plan, started('find'));
  });

  it('a pull: the same listings, the transfer from the other side', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  nas: { type: local, path: "${lab.outside('nas')}" }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n`);
    for (let i = 0; i < 4; i++) lab.write(lab.outside('nas', 'raw', `f${i}`), `file ${i}`);
    expect((await lab.cli(['data', 'pull'])).exitCode).toBe(0);
    lab.write(lab.outside('nas/raw/f2'), 'changed at the source');
    const plan = planOf(await lab.cli(['plan', 'data', 'pull', '--json']));
    expect(plan.steps.map((s) => s.step)).toEqual(['list', 'list', 'plan', 'transfer', 'transfer', 'transfer', 'transfer', 'verify']);
    const { env, started } = shim(lab);
    const run = await lab.cli(['data', 'pull', '--json'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(ranOf(run)).toMatchObject({ status: 'ok', files: 1 });
    sameCommands(plan, ranOf(run));
    sameFinds(plan, started('find'));
  });

  it('verify: none prints no verify step; size says it reads no content', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  nas: { type: local, path: "${lab.outside('nas')}" }\ndata:\n  - { name: a, local: a, remote: "nas:a", verify: none }\n  - { name: b, local: b, remote: "nas:b", verify: size }\n`);
    const r = await lab.cli(['plan', 'data', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [a, b] = json<{ pairs: Planned[] }>(r).pairs as [Planned, Planned];
    expect(a.steps.some((s) => s.step === 'verify')).toBe(false);
    expect(a.steps.some((s) => s.step === 'delete')).toBe(false);
    expect(b.steps.find((s) => s.step === 'verify')?.note).toMatch(/compares sizes and modification times, reads no content/);
  });
});

describe.skipIf(!ssh)('plan prints what a run executes: rsync over ssh (test sshd)', () => {
  const host = ssh as SshHost;
  it('the held listing session, the transfer and the deletions, with the argv the run gave ssh and rsync', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    for (let i = 0; i < 4; i++) lab.write(lab.path('raw', `f${i}`), `file ${i}`);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await pastRacyWindow();
    lab.write(lab.path('raw/f1'), 'changed!').write(lab.outside('gpu/raw/extra'), 'only on the host');

    const plan = planOf(await lab.cli(['plan', 'data', 'push', '--json']));
    const held = plan.steps.filter((s) => s.step === 'list' && s.command?.startsWith('ssh '));
    expect(held).toHaveLength(1);
    expect(held[0]?.note).toMatch(/the host, in one ssh connection .*kept open for the transfer/);
    expect(plan.steps.find((s) => s.step === 'verify')?.note).toMatch(/on the host by sha256sum over the same ssh connection/);

    const { env, started } = shim(lab);
    // plan itself opens no ssh connection and lists nothing.
    expect((await lab.cli(['plan', 'data', 'push'], { env: { ...env, LABSYNC_EARLY_SSH: '0' } })).exitCode).toBe(0);
    expect([started('ssh').length, started('find').length]).toEqual([0, 0]);
    const run = await lab.cli(['data', 'push', '--json'], { env: { ...env, LABSYNC_EARLY_SSH: '0' } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(ranOf(run)).toMatchObject({ status: 'ok', files: 1 });
    sameCommands(plan, ranOf(run));
    sameFinds(plan, started('find'));
    const sshRan = started('ssh').map((s) => formatCommand({ tool: 'ssh', args: s.args, cwd: s.cwd, mutates: false, label: '' }, (t) => t));
    expect(sshRan).toContain((held[0]?.command as string).replace(/ < \(this run's token and the files to hash\)$/, ''));
  });

  it('a snapshot push over ssh: the verify is said as labsync\'s comparison of listings, rsync --checksum only for a host that cannot list', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    snapshots: { keep: 2 }\n' }));
    const r = await lab.cli(['plan', 'data', 'push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# verify: labsync lists the new snapshot on the host and the local side/m);
    expect(r.stdout).toMatch(/^rsync .*--checksum .*# verify: when the host has no GNU find or sha256sum$/m);
  });

  it('compress: both ends asked first, as printed; the transfer as printed but for the compression they agree on, which the plan says it adds', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    compress: true\n' }));
    for (let i = 0; i < 3; i++) lab.write(lab.path('raw', `f${i}.txt`), `file ${i}\n`.repeat(50));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    lab.write(lab.path('raw/f1.txt'), 'changed\n'.repeat(50));
    const plan = planOf(await lab.cli(['plan', 'data', 'push', '--json']));
    const asks = plan.steps.filter((s) => s.step === 'compress');
    expect(asks.length).toBeGreaterThan(0);
    expect(asks[0]?.note).toMatch(/where both list zstd the transfer adds --compress-choice=zstd/);
    expect(plan.steps.indexOf(asks[0] as Step)).toBe(0);

    const { env, started } = shim(lab);
    const run = await lab.cli(['data', 'push', '--json'], { env: { ...env, LABSYNC_EARLY_SSH: '0' } });
    expect(run.exitCode, run.stderr).toBe(0);
    const ran = ranOf(run);
    expect(ran).toMatchObject({ status: 'ok', files: 1 });
    sameCommands(plan, { ...ran, commands: ran.commands.map((c) => c.replace(/ --compress-choice=zstd/, '')) });
    const sshRan = started('ssh').map((s) => formatCommand({ tool: 'ssh', args: s.args, cwd: s.cwd, mutates: false, label: '' }, (t) => t));
    for (const a of asks.filter((s) => s.command?.startsWith('ssh '))) expect(sshRan).toContain(a.command);
  });
});

describe.skipIf(!s3)('plan prints what a run executes: aws and rclone against moto', () => {
  const server = s3 as S3Server;
  const manifest = (bucket: string, tool: string): string => s3PairManifest(server, bucket, tool, '    delete: true\n');
  for (const tool of ['aws', 'rclone']) {
    it(`${tool}: labsync's own listing, the planned transfer and the verify's listing of the planned keys`, async () => {
      const lab = new Lab();
      const bucket = await makeBucket(server, lab.env);
      lab.manifest(manifest(bucket, tool));
      for (let i = 0; i < 12; i++) lab.write(lab.path('raw', `f${i}`), `file ${i}`);
      expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
      lab.write(lab.path('raw/f3'), 'changed');

      const shown = await lab.cli(['plan', 'data', 'push'], { env: S3_KEYS });
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/\S+ list-objects-v2 prefix=lab\/raw\/ \(labsync's own listing\) +# list: the remote, by labsync over HTTP \(if it fails: /m);
      expect(shown.stdout).toMatch(/^# verify: after a push that moved anything labsync lists the remote again and compares the (MD5|ETag) the listing gives with the local hash cache; nothing read at the remote/m);
      expect(shown.stdout).not.toMatch(/--dryrun|--dry-run|rclone check|--checksum( |$)/m);
      const plan = planOf(await lab.cli(['plan', 'data', 'push', '--json'], { env: S3_KEYS }));
      const run = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(run.exitCode, run.stderr).toBe(0);
      const ran = ranOf(run);
      // The listing as plan printed it.
      expect(asPlanned(ran.commands[0] as string)).toBe(plan.steps[0]?.command);
      // What moved the files and listed the pushed key again is printed (aws-cli's form of a larger plan too, which this run did not need).
      const logged = ran.commands.slice(1).map(asPlanned);
      // Listings and the compression asks are not in --json's commands: sameFinds and the ssh shim check those.
  const printed = plan.steps.filter((s) => s.command && s.step !== 'list' && s.step !== 'compress').map((s) => s.command as string);
      for (const c of logged) expect(printed, `${c}\nnot in\n${printed.join('\n')}`).toContain(c);
      if (tool === 'rclone') sameCommands(plan, ran);
      expect(logged.some((c) => /list-objects-v2 of the planned keys/.test(c))).toBe(true);
    });
  }

  it('aws without labsync\'s own PUT: the staged aws-cli copy and the batched deletions, as printed', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws'));
    for (let i = 0; i < 12; i++) lab.write(lab.path('raw', `f${i}`), `file ${i}`);
    const env = { ...S3_KEYS, LABSYNC_S3_PUT: '0' };
    expect((await lab.cli(['data', 'push'], { env })).exitCode).toBe(0);
    lab.write(lab.path('raw/f3'), 'changed').write(lab.path('raw/f4'), 'changed too');
    rmSync(lab.path('raw/f5'));
    const plan = planOf(await lab.cli(['plan', 'data', 'push', '--json'], { env }));
    expect(plan.steps.some((s) => s.command?.startsWith('PUT '))).toBe(false);
    const run = await lab.cli(['data', 'push', '--json'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const ran = ranOf(run);
    expect(ran).toMatchObject({ status: 'ok', files: 2 });
    expect(ran.commands.some((c) => c.includes(' s3 cp --recursive '))).toBe(true);
    // delete-objects names the planned keys in its argv: the plan shows the same call with its placeholder.
    const [dels, rest] = [ran.commands.filter((c) => c.includes(' delete-objects ')), ran.commands.filter((c) => !c.includes(' delete-objects '))];
    expect(dels).toHaveLength(1);
    const printedDel = plan.steps.find((s) => s.step === 'delete')?.command as string;
    expect((dels[0] as string).replace('lab/raw/f5', 'lab/raw/<planned-file>-extra')).toBe(printedDel);
    expect(asPlanned(rest[0] as string)).toBe(plan.steps[0]?.command);
    sameCommands({ ...plan, steps: plan.steps.filter((s) => s.step !== 'delete') }, { ...ran, commands: rest.slice(1) });
  });
});
