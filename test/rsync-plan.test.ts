// list → plan → transfer → cached verify for rsync over a real sshd (issue 12): counted, not timed.
import { execFileSync } from 'node:child_process';
import { statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { pastRacyWindow } from './harness/wait.js';
import { startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { hostWithout } from './harness/bare-host.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

const ssh = inject('sshHost');

type Verify = { status: string; changed: string[]; bytesHashed?: { local: number; remote: number }; proof?: string };
type Doc = { pairs: { status: string; files: number; commands: string[]; verify: Verify | null; changes?: { transfer: string[]; delete: string[] } }[] };

const manifest = (host: SshHost, lab: Lab, extra = ''): string => sshPairManifest(host, lab, { pair: `    delete: true\n${extra}` });

const settle = pastRacyWindow;

const pairOf = (r: { stdout: string }) => json<Doc>(r as never).pairs[0];

describe.skipIf(!ssh)('rsync over ssh: one listing per side, cached verify on both sides', () => {
  const host = ssh as SshHost;

  it('a first push of small files (no --partial-dir) walks the tree and never sends the partial folders stopped runs left in it (review 69)', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a').write(lab.path('raw/sub/b'), 'b');
    lab.write(lab.path('raw/.rsync-partial/big.ckpt'), 'half a checkpoint').write(lab.path('raw/sub/.rsync-partial/y'), 'half');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)?.commands.some((c) => c.includes('--no-specials') && !c.includes('--partial-dir'))).toBe(true);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'a', 'sub/b': 'b' });
    expect(pairOf(r)?.verify).toMatchObject({ status: 'in_sync' });
  });

  it('check of an unchanged pair reads no content on either side; a one-file change costs that file; --full reads all', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/sub/b'), 'b'.repeat(20)).write(lab.path('raw/c'), 'c'.repeat(30));
    await settle();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await settle();
    await lab.cli(['check']); // remembers what the push's verify hashed too soon after writing
    const unchanged = await lab.cli(['check', '--json']);
    expect(unchanged.exitCode).toBe(0);
    expect(pairOf(unchanged)?.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, proof: 'cached' });
    expect((await lab.cli(['check', '-v'])).stdout).toContain('read 0 B here, 0 B on the remote');

    lab.write(lab.path('raw/sub/b'), 'B'.repeat(25));
    await settle();
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 1, changes: { transfer: ['sub/b'], delete: [] }, verify: { status: 'in_sync', bytesHashed: { local: 25, remote: 0 }, proof: 'rsync-transfer-checksum' } });
    expect(pairOf(push)?.commands).toHaveLength(1);

    const full = await lab.cli(['check', '--full', '--json']);
    expect(pairOf(full)?.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 65, remote: 65 }, proof: 'full' });
  });

  it('a no-op push lists each side once and runs no rsync at all', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'one').write(lab.path('raw/b'), 'two');
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const before = statSync(lab.outside('gpu/raw/a'));
    const r = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(r)).toMatchObject({ status: 'ok', files: 0, commands: [], verify: { status: 'in_sync' } });
    const after = statSync(lab.outside('gpu/raw/a'));
    expect([after.ino, after.mtimeMs, after.ctimeMs]).toEqual([before.ino, before.mtimeMs, before.ctimeMs]);
  });

  it('a no-op push walks the local tree once (find marks symlinks in the listing\'s own walk); a symlink found there still goes to rsync', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'one').write(lab.path('raw/sub/b'), 'two');
    await settle();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    // A PATH whose find logs each call, then runs the real one (labsync's local listing and any probe).
    const bin = tempDir('labsync-find-log-');
    const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
    writeFileSync(join(bin, 'find'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${bin}/calls'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const calls = (): string[] => {
      try {
        return execFileSync('cat', [join(bin, 'calls')]).toString().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const r = await lab.cli(['data', 'push', '--json'], { env });
    expect(pairOf(r)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync' } });
    expect(calls()).toHaveLength(1);
    expect(calls()[0]).toContain('-printf');

    symlinkSync('a', lab.path('raw/link'));
    const linked = await lab.cli(['data', 'push', '--json'], { env });
    expect(linked.exitCode, linked.stdout + linked.stderr).toBe(0);
    expect(pairOf(linked)?.commands.some((c) => c.includes('--dry-run --itemize-changes'))).toBe(true);
  });

  it('a cached remote hash is not trusted across a changed stat key: a same-size flip with its mtime restored is caught and replaced', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/w.bin'), 'weights-0001').write(lab.path('raw/other'), 'x');
    await settle();
    await lab.cli(['data', 'push']);
    await settle();
    await lab.cli(['check']);
    const target = lab.outside('gpu/raw/w.bin');
    const stamp = new Date(statSync(target).mtimeMs).toISOString();
    writeFileSync(target, 'weights-0002');
    execFileSync('touch', ['-d', stamp, target]); // size and mtime as before: only ctime tells
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(pairOf(check)?.verify).toMatchObject({ status: 'drift', changed: ['w.bin'], bytesHashed: { local: 0, remote: 12 } });
    const push = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
  });

  it('deletes only after the transfer, keeps backups, and names a folder gone at the source once', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab, '    backup: true\n'));
    lab.write(lab.path('raw/keep'), 'k').write(lab.path('raw/old/deep/x'), 'x').write(lab.path('raw/edit'), 'v1');
    await lab.cli(['data', 'push']);
    const { rmSync } = await import('node:fs');
    rmSync(lab.path('raw/old'), { recursive: true });
    lab.write(lab.path('raw/edit'), 'v2!');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { transfer: ['edit'], delete: ['old/deep/x'] } });
    const tree = lab.tree(lab.outside('gpu/raw'));
    const kept = Object.fromEntries(Object.entries(tree).filter(([k]) => k.startsWith('.labsync-backup/')).map(([k, v]) => [k.replace(/^\.labsync-backup\/[^/]+\//, ''), v]));
    expect(kept).toEqual({ edit: 'v1', 'old/deep/x': 'x' });
    expect(Object.keys(tree).filter((k) => !k.startsWith('.labsync-backup/')).sort()).toEqual(['edit', 'keep']);
  });
});

describe.skipIf(!ssh)('a host without GNU find or sha256sum falls back to rsync\'s own listing and checksum compare', () => {
  const hosts: SshHost[] = [];
  let noFind: SshHost;
  let noSum: SshHost;
  beforeAll(async () => {
    const a = hostWithout(tempDir('labsync-bare-host-'), ['find', 'sha256sum']);
    noFind = await startSshd(join(a.dir, 'sshd'), [`SetEnv PATH=${a.bin}`]);
    const b = hostWithout(tempDir('labsync-bare-host-'), ['sha256sum']);
    noSum = await startSshd(join(b.dir, 'sshd'), [`SetEnv PATH=${b.bin}`]);
    hosts.push(noFind, noSum);
  });
  afterAll(() => hosts.forEach(stopSshd));

  it('no GNU find: the preview is rsync\'s dry run and verify is rsync -c, as before', async () => {
    const lab = new Lab();
    lab.manifest(manifest(noFind, lab));
    lab.write(lab.path('raw/a'), 'A').write(lab.path('raw/b'), 'B');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const pair = pairOf(r);
    expect(pair?.commands.some((c) => c.includes('--dry-run --itemize-changes'))).toBe(true);
    expect(pair?.verify).toMatchObject({ status: 'in_sync', proof: 'tool' });
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'A', b: 'B' });
    const doctor = await lab.cli(['doctor']);
    expect(doctor.stdout.match(/has no GNU find/g)).toHaveLength(1);
  });

  it('GNU find but no sha256sum: the plan is labsync\'s; what rsync wrote is proved by its transfer, the rest by rsync -c', async () => {
    const lab = new Lab();
    lab.manifest(manifest(noSum, lab));
    lab.write(lab.path('raw/a'), 'A');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // labsync's planned transfer (a first push: the whole tree, itemized), not rsync's preview.
    expect(pairOf(r)?.commands.some((c) => c.includes('--no-specials --itemize-changes --stats'))).toBe(true);
    expect(pairOf(r)?.commands.some((c) => c.includes('--dry-run'))).toBe(false);
    expect(pairOf(r)?.verify).toMatchObject({ status: 'in_sync', proof: 'rsync-transfer-checksum' });
    utimesSync(lab.outside('gpu/raw/a'), new Date(), new Date());
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(0);
    expect(pairOf(check)?.verify).toMatchObject({ status: 'in_sync', proof: 'tool' });
  });
});

describe.skipIf(!ssh)('full_check', () => {
  const host = ssh as SshHost;
  it('full_check: 7d reads every byte when due (never run yet), then answers from the caches', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab, '    full_check: 7d\n'));
    lab.write(lab.path('raw/a'), 'a'.repeat(7)).write(lab.path('raw/b'), 'b'.repeat(5));
    await settle();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    // The push's verify was the first full check; then caches answer.
    await settle();
    await lab.cli(['check']);
    const again = await lab.cli(['check', '--json']);
    expect(pairOf(again)?.verify).toMatchObject({ status: 'in_sync', proof: 'cached', bytesHashed: { local: 0, remote: 0 } });
    const asked = await lab.cli(['check', '--full', '--json']);
    expect(pairOf(asked)?.verify).toMatchObject({ proof: 'full', bytesHashed: { local: 12, remote: 12 } });
    const { rmSync } = await import('node:fs');
    rmSync(lab.path('.labsync/cache/full-check-raw.json'));
    expect(pairOf(await lab.cli(['check', '--json']))?.verify).toMatchObject({ proof: 'full', bytesHashed: { local: 12, remote: 12 } });
  });
});

describe('a tree holding symlinks', () => {
  it('is left to rsync\'s own listing, so its links are copied as links', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n`);
    lab.write(lab.path('raw/a'), 'A');
    symlinkSync('a', lab.path('raw/link'));
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)?.commands.some((c) => c.includes('--dry-run --itemize-changes'))).toBe(true);
    const { readlinkSync } = await import('node:fs');
    expect(readlinkSync(lab.outside('nas/link'))).toBe('a');
  });
});
