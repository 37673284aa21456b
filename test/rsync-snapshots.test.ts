// Hard-linked snapshots (snapshots: { keep }) with the real rsync, to a local folder and over the
// loopback sshd: complete dated trees, unchanged files hard-linked (same inode, link counts), `latest`
// moved only after a verified run, old ones pruned, check and pull reading latest or --snapshot.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';
import { processesMentioning } from './harness/processes.js';
import { until } from './harness/wait.js';

const ssh = inject('sshHost');
// Over ssh each run opens several connections (read, compare, write, list, publish) on a shared 2-core machine.
const SLOW = 240_000;
const STAMP = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/;

function remoteSpec(kind: 'local' | 'ssh', lab: Lab): string {
  const host = ssh as SshHost;
  return kind === 'local'
    ? `{ type: local, path: ${lab.outside('far')} }`
    : `{ type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${host.port}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: ${lab.outside('far')} }`;
}

function snapLab(kind: 'local' | 'ssh', extra = ''): Lab {
  const lab = new Lab();
  lab.manifest(`version: 1
defaults:
  retries: 0
remotes:
  backup: ${remoteSpec(kind, lab)}
models:
  - name: ckpt
    local: models
    remote: backup:snaps
    snapshots: { keep: 2 }
${extra}`);
  return lab;
}

const snapsDir = (lab: Lab): string => lab.outside('far', 'snaps');
const snapshots = (lab: Lab): string[] => readdirSync(snapsDir(lab)).filter((n) => STAMP.test(n)).sort();
const latest = (lab: Lab): string => readlinkSync(join(snapsDir(lab), 'latest'));
const ino = (lab: Lab, snap: string, file: string): number => statSync(join(snapsDir(lab), snap, file)).ino;
const links = (lab: Lab, snap: string, file: string): number => statSync(join(snapsDir(lab), snap, file)).nlink;

interface Pushed { snapshot?: string; status: string; error: string | null; commands: string[]; files: number; verify: { status: string; proof?: string; bytesHashed?: { local: number; remote: number } } | null }

async function push(lab: Lab, ...more: string[]): Promise<Pushed> {
  const r = await lab.cli(['models', 'push', '--json', ...more]);
  return json<{ pairs: Pushed[] }>(r).pairs[0] as Pushed;
}

for (const kind of ['local', 'ssh'] as const) {
  describe.skipIf(kind === 'ssh' && !ssh)(`snapshots to a ${kind} remote`, () => {
    it('writes complete dated trees, hard-links what did not change, moves latest, keeps `keep`', { timeout: SLOW }, async () => {
      const lab = snapLab(kind);
      lab.write(lab.path('models/a.ckpt'), 'A1');
      lab.write(lab.path('models/sub/b.ckpt'), 'B1');
      lab.write(lab.path('models/c.ckpt'), 'C1');
      const first = await push(lab);
      expect(first, first.error ?? '').toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      const [s1] = snapshots(lab);
      expect(first.snapshot).toBe(s1);
      expect(latest(lab)).toBe(s1);
      expect(lstatSync(join(snapsDir(lab), 'latest')).isSymbolicLink()).toBe(true);
      expect(lab.tree(join(snapsDir(lab), s1 as string))).toEqual({ 'a.ckpt': 'A1', 'sub/b.ckpt': 'B1', 'c.ckpt': 'C1' });

      // Unchanged tree: a second complete snapshot that costs no file data (every file a second link).
      const second = await push(lab);
      expect(second).toMatchObject({ status: 'ok', files: 0 });
      // Over ssh the new tree is verified from one listing and sha256sum on the host: all 6 bytes read
      // there (linking changed their ctimes), the local side from its hash cache.
      if (kind === 'ssh') expect(second.verify).toMatchObject({ proof: 'cached', bytesHashed: { remote: 6 } });
      const [, s2] = snapshots(lab);
      expect(latest(lab)).toBe(s2);
      for (const f of ['a.ckpt', 'sub/b.ckpt', 'c.ckpt']) {
        expect(ino(lab, s2 as string, f)).toBe(ino(lab, s1 as string, f));
        expect(links(lab, s2 as string, f)).toBe(2);
      }

      // One file changed, one gone: a new inode for the change, links for the rest; keep: 2 drops s1.
      lab.write(lab.path('models/a.ckpt'), 'A2');
      rmSync(lab.path('models/c.ckpt'));
      expect((await push(lab)).status).toBe('ok');
      const names = snapshots(lab);
      expect(names).toEqual([s2, expect.stringMatching(STAMP)]);
      const s3 = names[1] as string;
      expect(latest(lab)).toBe(s3);
      expect(lab.tree(join(snapsDir(lab), s3))).toEqual({ 'a.ckpt': 'A2', 'sub/b.ckpt': 'B1' });
      expect(lab.tree(join(snapsDir(lab), s2 as string))).toEqual({ 'a.ckpt': 'A1', 'sub/b.ckpt': 'B1', 'c.ckpt': 'C1' });
      expect(ino(lab, s3, 'a.ckpt')).not.toBe(ino(lab, s2 as string, 'a.ckpt'));
      expect(ino(lab, s3, 'sub/b.ckpt')).toBe(ino(lab, s2 as string, 'sub/b.ckpt'));
      // s1 removed: b is now in s2 and s3 only.
      expect(links(lab, s3, 'sub/b.ckpt')).toBe(2);
      expect(existsSync(join(snapsDir(lab), '.labsync-incomplete'))).toBe(false);

      // check verifies latest; pull restores from it, or from --snapshot.
      const checked = await lab.cli(['check', '--json']);
      expect(checked.exitCode).toBe(0);
      expect(json<{ pairs: { snapshot: string }[] }>(checked).pairs[0]?.snapshot).toBe(s3);
      // An older snapshot is checked when asked: it still holds c.ckpt and the old a.ckpt.
      const old = await lab.cli(['check', '--snapshot', s2 as string]);
      expect(old.exitCode).toBe(4);
      expect(old.stderr).toMatch(new RegExp(`differs: .*; snapshot ${s2}`));
      rmSync(lab.path('models/a.ckpt'));
      const pulled = await lab.cli(['models', 'pull']);
      expect(pulled.exitCode, pulled.stderr).toBe(0);
      expect(readFileSync(lab.path('models/a.ckpt'), 'utf8')).toBe('A2');
      const older = await lab.cli(['models', 'pull', '--snapshot', s2 as string]);
      expect(older.exitCode, older.stderr).toBe(0);
      expect(lab.tree(lab.path('models'))).toEqual({ 'a.ckpt': 'A1', 'sub/b.ckpt': 'B1', 'c.ckpt': 'C1' });
      const none = await lab.cli(['models', 'pull', '--snapshot', '2020-01-01T00-00-00.000Z', '--json']);
      expect(none.exitCode).toBe(3);
      expect(json<{ pairs: { error: string }[] }>(none).pairs[0]?.error).toMatch(new RegExp(`no snapshot 2020-01-01T00-00-00.000Z at backup:snaps \\(the newest there: ${s2}, ${s3}\\)`));
    });

    it('check finds a corrupted byte in latest (exit 4), and the deletion guard judges what a snapshot drops', { timeout: SLOW }, async () => {
      const lab = snapLab(kind, '    max_delete: 1\n');
      for (const n of ['a', 'b', 'c', 'd']) lab.write(lab.path(`models/${n}.ckpt`), `${n}-weights`);
      expect((await push(lab)).status).toBe('ok');
      const s1 = latest(lab);
      writeFileSync(join(snapsDir(lab), s1, 'b.ckpt'), 'b-weighTs');
      const check = await lab.cli(['check', '--json']);
      expect(check.exitCode).toBe(4);
      expect(json<{ pairs: { verify: { changed: string[] } }[] }>(check).pairs[0]?.verify.changed).toEqual(['b.ckpt']);
      writeFileSync(join(snapsDir(lab), s1, 'b.ckpt'), 'b-weights');

      rmSync(lab.path('models/a.ckpt'));
      rmSync(lab.path('models/b.ckpt'));
      const refused = await push(lab);
      expect(refused).toMatchObject({ status: 'refused', error: expect.stringMatching(/would delete 2 of 4 files at the destination/) });
      expect(snapshots(lab)).toEqual([s1]);
      expect(latest(lab)).toBe(s1);
      const planned = await push(lab, '--dry-run');
      expect(planned.status).toBe('refused');
    });

    it('an interrupted run leaves latest where it was; the next run completes the unfinished folder', { timeout: SLOW }, async () => {
      const lab = snapLab(kind, '    bwlimit: 200K\n');
      lab.write(lab.path('models/small.ckpt'), 'small');
      expect((await push(lab)).status).toBe('ok');
      const s1 = latest(lab);
      lab.write(lab.path('models/big.ckpt'), randomBytes(4 * 1024 * 1024));
      const run = lab.spawn(['models', 'push']);
      const incomplete = join(snapsDir(lab), '.labsync-incomplete');
      await until('the transfer to start', () => processesMentioning('--link-dest').some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes(lab.outside('far'))) && existsSync(incomplete));
      run.kill('SIGINT');
      expect((await run).exitCode).toBe(130);
      expect(latest(lab)).toBe(s1);
      expect(snapshots(lab)).toEqual([s1]);
      expect(existsSync(incomplete)).toBe(true);

      lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    bwlimit: 200K\n', ''));
      const next = await push(lab);
      expect(next.status, next.error ?? '').toBe('ok');
      const s2 = latest(lab);
      expect(s2).not.toBe(s1);
      expect(existsSync(incomplete)).toBe(false);
      expect(readFileSync(join(snapsDir(lab), s2, 'big.ckpt')).length).toBe(4 * 1024 * 1024);
      expect(ino(lab, s2, 'small.ckpt')).toBe(ino(lab, s1, 'small.ckpt'));
    });
  });
}

describe('snapshots, bad input', () => {
  it('a status of a pair with no snapshot yet is drift, naming it; pull refuses; --snapshot on a plain pair is refused', async () => {
    const lab = snapLab('local');
    lab.write(lab.path('models/a.ckpt'), 'A');
    const status = await lab.cli(['models', 'status', '--json']);
    expect(status.exitCode).toBe(4);
    expect(json<{ pairs: { error: string }[] }>(status).pairs[0]?.error).toMatch(/no snapshot at backup:snaps yet/);
    const pull = await lab.cli(['models', 'pull', '--json']);
    expect(pull.exitCode).toBe(3);
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(json<{ pairs: { error: string }[] }>(check).pairs[0]?.error).toMatch(/no snapshot at backup:snaps yet/);
    const pushOld = await lab.cli(['models', 'push', '--snapshot', '2026-01-01T00-00-00.000Z', '--json']);
    expect(pushOld.exitCode).toBe(3);
    expect(json<{ pairs: { error: string }[] }>(pushOld).pairs[0]?.error).toMatch(/a push always writes a new snapshot/);
    expect(existsSync(lab.outside('far'))).toBe(false);
    const plain = new Lab().manifest(`version: 1\nmodels:\n  - { name: m, local: m, remote: "file://${lab.outside('x')}" }\n`);
    plain.write(plain.path('m/a'), 'a');
    const r = await plain.cli(['models', 'pull', '--snapshot', '2026-01-01T00-00-00.000Z', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<{ pairs: { error: string }[] }>(r).pairs[0]?.error).toMatch(/--snapshot applies to pairs with snapshots:/);
  });

  it('a latest that is not the link labsync made is never replaced: push and pull are refused before anything is written, saying why', async () => {
    const lab = snapLab('local');
    lab.write(lab.path('models/a.ckpt'), 'A');
    expect((await push(lab)).status).toBe('ok');
    const first = snapshots(lab);
    // A folder restored with cp -r sits where latest goes: it is never replaced, and no full copy is written beside it.
    rmSync(join(snapsDir(lab), 'latest'));
    lab.write(join(snapsDir(lab), 'latest', 'mine.txt'), 'not a snapshot');
    lab.write(lab.path('models/b.ckpt'), 'B');
    const r = await push(lab);
    expect(r).toMatchObject({ status: 'refused', error: expect.stringMatching(/latest at backup:snaps is a folder or file, not the symlink labsync keeps .* \(the newest snapshot there: .*\); nothing was changed/) });
    expect(readFileSync(join(snapsDir(lab), 'latest', 'mine.txt'), 'utf8')).toBe('not a snapshot');
    expect(snapshots(lab)).toEqual(first);
    expect(existsSync(join(snapsDir(lab), '.labsync-incomplete'))).toBe(false);
    const checked = await lab.cli(['check', '--json']);
    expect(checked.exitCode).toBe(3);
    expect(json<{ pairs: { status: string; error: string }[] }>(checked).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/not the symlink labsync keeps/) });
  });

  it('an unfinished folder left by a stopped push: its links into older snapshots are broken first (a chmod since never reaches them), its partial files never published', async () => {
    const lab = snapLab('local', '    exclude: []\n');
    lab.write(lab.path('models/a.ckpt'), 'A');
    expect((await push(lab)).status).toBe('ok');
    const [first] = snapshots(lab);
    // What a push stopped mid-file leaves: hard links to the last snapshot, and rsync's part of a file since deleted here.
    execFileSync('cp', ['-al', join(snapsDir(lab), first as string), join(snapsDir(lab), '.labsync-incomplete')]);
    lab.write(join(snapsDir(lab), '.labsync-incomplete', '.rsync-partial', 'gone.bin'), 'part of a file');
    // rsync's partial folder is per folder: one in a subfolder too (its file deleted here since).
    lab.write(lab.path('models/sub/b.ckpt'), 'B');
    lab.write(join(snapsDir(lab), '.labsync-incomplete', 'sub', '.rsync-partial', 'gone2.bin'), 'part of another');
    chmodSync(lab.path('models/a.ckpt'), 0o600);
    const r = await push(lab);
    expect(r.status, r.error ?? '').toBe('ok');
    const second = r.snapshot as string;
    expect(statSync(join(snapsDir(lab), first as string, 'a.ckpt')).mode & 0o777).toBe(0o644);
    expect(statSync(join(snapsDir(lab), second, 'a.ckpt')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(snapsDir(lab), second)).sort()).toEqual(['a.ckpt', 'sub']);
    expect(readdirSync(join(snapsDir(lab), second, 'sub'))).toEqual(['b.ckpt']);
    // latest removed by hand: check names the newest snapshot instead of saying there is none.
    rmSync(join(snapsDir(lab), 'latest'));
    const checked = await lab.cli(['check', '--json']);
    expect(json<{ pairs: { error: string }[] }>(checked).pairs[0]?.error).toMatch(new RegExp(`latest at backup:snaps names no snapshot there .*the newest is ${second}: --snapshot ${second} reads it`));
    expect((await push(lab)).status).toBe('ok');
    expect(latest(lab)).not.toBe(second);
  });

  it('a snapshot dated after this run (a clock ahead elsewhere) stops the pruning, said in a warning; nothing recent is removed', async () => {
    const lab = snapLab('local');
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('keep: 2', 'keep: 1'));
    lab.write(lab.path('models/a.ckpt'), 'A');
    lab.write(join(snapsDir(lab), '2099-01-01T00-00-00.000Z', 'a.ckpt'), 'from a machine whose clock is ahead');
    expect((await push(lab)).status).toBe('ok');
    lab.write(lab.path('models/a.ckpt'), 'A2');
    const r = await lab.cli(['models', 'push', '--json']);
    const pair = json<{ pairs: (Pushed & { warnings: string[] })[] }>(r).pairs[0];
    expect(pair?.status).toBe('ok');
    expect(pair?.warnings.join('\n')).toMatch(/not pruning: the snapshot 2099-01-01T00-00-00\.000Z is dated after this run's/);
    expect(snapshots(lab)).toHaveLength(3);
  });

  it('plan shows where a snapshot push writes, what it links to, and how it publishes; runs nothing', async () => {
    const lab = snapLab('local');
    lab.write(lab.path('models/a.ckpt'), 'A');
    const r = await lab.cli(['plan', 'models', 'push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--delete-delay --link-dest=\.\.\/latest -- \S+\/models\/ \S+\/snaps\/\.labsync-incomplete\/ +# transfer/);
    expect(r.stdout).toMatch(/mv -- \.labsync-incomplete .*latest.*# publish/);
    expect(existsSync(lab.outside('far'))).toBe(false);
  });

  it('a dead ssh host fails the push within the ssh connect timeout, naming the host, and nothing is written', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nmodels:\n  - { name: ckpt, local: models, remote: "ssh://nobody@127.0.0.1:1${lab.outside('far')}", snapshots: { keep: 3 } }\n`);
    lab.write(lab.path('models/a.ckpt'), 'A');
    const r = await lab.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ pairs: { status: string; error: string }[] }>(r).pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/127\.0\.0\.1.*(refused|port 1)/) });
    expect(existsSync(lab.outside('far'))).toBe(false);
  });

  it('plan --save refuses a snapshot push up front (exit 2, no file written): each push writes a new folder, nothing to plan against', async () => {
    const lab = snapLab('local');
    lab.write(lab.path('models/w.bin'), 'w');
    const r = await lab.cli(['plan', 'models', 'push', '--save', 'plan.json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/plan --save: models\.ckpt \(rsync, push\) cannot be planned ahead/);
    expect(existsSync(lab.path('plan.json'))).toBe(false);
    expect(existsSync(lab.outside('far'))).toBe(false);
  });
});
