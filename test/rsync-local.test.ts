// rsync between local folders, through the real CLI: what a user sees, what lands on disk.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { treeMounts } from '../src/verify/mount-types.js';

interface RunDoc {
  command: string; ok: boolean; startedAt: string; durationMs: number;
  pairs: { name: string; category: string; tool: string; action: string; status: string; attempts: number; durationMs: number; files: number; bytes: number; error: string | null; commands: string[]; verify: { status: string; checked: number; missing: string[]; extra: string[]; changed: string[] } | null; changes?: { transfer: string[]; delete: string[] } }[];
}

function mirrorLab(options = ''): Lab {
  const lab = new Lab().manifest(`version: 1
defaults:
  retries: 0
  exclude: ["*.tmp"]
remotes:
  nas: { type: local, path: ../nas }
data:
  - name: raw
    local: data/raw
    remote: nas:raw
    delete: true
${options}
`);
  for (let i = 0; i < 10; i++) lab.write(lab.path('data/raw', `f${i}.csv`), `row ${i}\n`);
  return lab;
}

describe('rsync, local folders', () => {
  it('pushes, verifies by checksum, records state and writes the JSON document', async () => {
    const lab = mirrorLab();
    lab.write(lab.path('data/raw/skip.tmp'), 'excluded');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = json<RunDoc>(r);
    expect(doc).toMatchObject({ command: 'data push', ok: true });
    expect(doc.pairs[0]).toMatchObject({ name: 'raw', category: 'data', tool: 'rsync', action: 'push', status: 'ok', attempts: 1, files: 10, error: null, verify: { status: 'in_sync', checked: 10, missing: [], extra: [], changed: [] } });
    expect(doc.pairs[0]?.commands.some((c) => c.startsWith('rsync --archive'))).toBe(true);
    const { 'skip.tmp': excluded, ...sent } = lab.tree(lab.path('data/raw'));
    expect(excluded).toBe('excluded');
    expect(lab.tree(lab.outside('nas/raw'))).toEqual(sent);
    const state = JSON.parse(readFileSync(lab.path('.labsync/state.json'), 'utf8'));
    expect(state.pairs.raw).toMatchObject({ status: 'ok', files: 10, action: 'push', lastSuccessAt: expect.any(String) });
    const status = json<{ pairs: { name: string; lastRun: { status: string } }[] }>(await lab.cli(['status', '--json']));
    expect(status.pairs[0]).toMatchObject({ name: 'raw', lastRun: { status: 'ok' } });
    const logs = readdirSync(lab.path('.labsync/logs'));
    expect(logs).toHaveLength(1);
    const lines = readFileSync(lab.path('.labsync/logs', logs[0] as string), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['run_start', 'pair_start', 'run_end']));
  });

  it('status reports drift without changing anything (exit 4), then in_sync after a push', async () => {
    const lab = mirrorLab();
    await lab.cli(['data', 'push']);
    lab.write(lab.path('data/raw/f1.csv'), 'changed\n');
    unlinkSync(lab.path('data/raw/f2.csv'));
    const before = lab.tree(lab.outside('nas/raw'));
    const s = await lab.cli(['data', 'status', '--json']);
    expect(s.exitCode).toBe(4);
    expect(json<RunDoc>(s).pairs[0]).toMatchObject({ status: 'drift', changes: { transfer: ['f1.csv'], delete: ['f2.csv'] } });
    expect(lab.tree(lab.outside('nas/raw'))).toEqual(before);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    expect((await lab.cli(['data', 'status'])).exitCode).toBe(0);
  });

  it('--dry-run reports what would move and be deleted, and changes nothing anywhere', async () => {
    const lab = mirrorLab();
    await lab.cli(['data', 'push']);
    lab.write(lab.path('data/raw/new.csv'), 'new\n');
    unlinkSync(lab.path('data/raw/f0.csv'));
    const before = lab.tree(lab.outside('nas/raw'));
    const stateBefore = readFileSync(lab.path('.labsync/state.json'), 'utf8');
    const r = await lab.cli(['data', 'push', '--dry-run', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<RunDoc>(r).pairs[0]).toMatchObject({ status: 'planned', changes: { transfer: ['new.csv'], delete: ['f0.csv'] } });
    expect(lab.tree(lab.outside('nas/raw'))).toEqual(before);
    expect(readFileSync(lab.path('.labsync/state.json'), 'utf8')).toBe(stateBefore);
    const human = await lab.cli(['data', 'push', '--dry-run']);
    expect(human.stdout).toMatch(/data\.raw\s+push\s+planned.*1 to transfer, 1 to delete/);
    expect(human.stdout).toContain('dry run: nothing changed');
  });

  it('verify counts extra destination files as drift for a mirror only', async () => {
    const copy = new Lab();
    copy.manifest(`version: 1\ndata:\n  - name: c\n    local: src\n    remote: file://${copy.outside('dest')}\n`);
    copy.write(copy.path('src/a'), 'a').write(copy.outside('dest/by-hand'), 'kept');
    const r = json<RunDoc>(await copy.cli(['data', 'push', '--json']));
    expect(r.pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync', extra: ['by-hand'] } });
    expect(copy.tree(copy.outside('dest'))).toEqual({ a: 'a', 'by-hand': 'kept' });
  });

  it('pulls a pull-mode pair with `sync`, creating the local folder', async () => {
    const lab = new Lab();
    const src = lab.outside('results');
    lab.write(`${src}/eval.json`, '{"acc": 1}\n');
    lab.manifest(`version: 1\ndata:\n  - name: results\n    local: out/results\n    remote: file://${src}\n    mode: pull\n`);
    const r = await lab.cli(['sync']);
    expect(r.exitCode).toBe(0);
    expect(lab.tree(lab.path('out/results'))).toEqual({ 'eval.json': '{"acc": 1}\n' });
  });

  it('refuses a push from a missing or empty source, and a mirror over max_delete, deleting nothing (exit 3)', async () => {
    const lab = mirrorLab('    max_delete: 30%');
    await lab.cli(['data', 'push']);
    const full = lab.tree(lab.outside('nas/raw'));
    for (const f of readdirSync(lab.path('data/raw')).slice(0, 5)) unlinkSync(lab.path('data/raw', f));
    const over = await lab.cli(['data', 'push', '--json']);
    expect(over.exitCode).toBe(3);
    expect(json<RunDoc>(over).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringContaining('would delete 5 of 10 files at the destination (50%), over max_delete 30%') });
    rmSync(lab.path('data/raw'), { recursive: true });
    lab.write(lab.path('data/raw/.keep-dir'), '');
    unlinkSync(lab.path('data/raw/.keep-dir'));
    const empty = await lab.cli(['data', 'push']);
    expect(empty.exitCode).toBe(3);
    expect(empty.stderr + empty.stdout).toMatch(/the source .*data\/raw is empty; refusing to mirror it/);
    rmSync(lab.path('data/raw'), { recursive: true });
    const missing = await lab.cli(['data', 'push']);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr + missing.stdout).toMatch(/the source .*data\/raw does not exist/);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual(full);
  });

  it('refuses a mirror pull from a remote that is missing, deleting nothing locally', async () => {
    const lab = new Lab();
    lab.write(lab.path('local/keep.txt'), 'mine\n');
    lab.manifest(`version: 1\ndata:\n  - name: p\n    local: local\n    remote: file://${lab.outside('gone')}\n    mode: pull\n    delete: true\n`);
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<RunDoc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringContaining('the source does not exist') });
    expect(lab.tree(lab.path('local'))).toEqual({ 'keep.txt': 'mine\n' });
  });

  it('a pull whose local folder cannot be made fails naming it, before any tool runs (exit 1)', async () => {
    const lab = new Lab();
    lab.write(lab.path('a-file'), 'not a folder\n').write(lab.outside('nas/x.txt'), 'x\n');
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: p\n    local: a-file/sub\n    remote: file://${lab.outside('nas')}\n    mode: pull\n`);
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(json<RunDoc>(r).pairs[0]).toMatchObject({ status: 'failed', commands: [], error: `cannot make the local folder ${lab.path('a-file/sub')} to pull into (ENOTDIR)` });
  });

  it('backup keeps every replaced and deleted file in a dated folder that later mirrors never delete', async () => {
    const lab = mirrorLab('    backup: true');
    await lab.cli(['data', 'push']);
    lab.write(lab.path('data/raw/f1.csv'), 'replaced\n');
    unlinkSync(lab.path('data/raw/f2.csv'));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const backups = readdirSync(lab.outside('nas/raw/.labsync-backup'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z$/);
    expect(lab.tree(lab.outside('nas/raw/.labsync-backup', backups[0] as string))).toEqual({ 'f1.csv': 'row 1\n', 'f2.csv': 'row 2\n' });
    unlinkSync(lab.path('data/raw/f3.csv'));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    expect(existsSync(lab.outside('nas/raw/.labsync-backup', backups[0] as string, 'f2.csv'))).toBe(true);
    expect((await lab.cli(['data', 'status'])).exitCode).toBe(0);
  });

  it('carries names with spaces, quotes, newlines, unicode and a leading dash, both ways', async () => {
    const names = ['with space.csv', "quo'te\".csv", 'new\nline.csv', 'ünïcödé ✓.csv', '-leading-dash.csv', 'back\\slash.csv'];
    const lab = new Lab().manifest('version: 1\nremotes:\n  nas: { type: local, path: "../nas dir" }\ndata:\n  - name: odd\n    local: "-odd dir"\n    remote: "nas:-odd remote"\n');
    for (const n of names) lab.write(lab.path('-odd dir', n), `content of ${n}`);
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode).toBe(0);
    expect(json<RunDoc>(push).pairs[0]?.verify).toMatchObject({ status: 'in_sync', checked: names.length });
    expect(lab.tree(lab.outside('nas dir', '-odd remote'))).toEqual(lab.tree(lab.path('-odd dir')));
    rmSync(lab.path('-odd dir'), { recursive: true });
    expect((await lab.cli(['data', 'pull'])).exitCode).toBe(0);
    expect(Object.keys(lab.tree(lab.path('-odd dir'))).sort()).toEqual([...names].sort());
  });

  it('keeps a planted secret out of output, logs, state and JSON', async () => {
    const secret = 'Sup3rS3cretV4lue';
    const lab = new Lab().manifest(`version: 1\nremotes:\n  nas: { type: local, path: "../nas-\${AWS_SECRET_ACCESS_KEY}" }\ndata:\n  - name: raw\n    local: data/raw\n    remote: nas:raw\n`);
    lab.write(lab.path('data/raw/a.csv'), 'a\n');
    const env = { AWS_SECRET_ACCESS_KEY: secret };
    const outputs = [
      await lab.cli(['data', 'push', '--json'], { env }),
      await lab.cli(['data', 'push', '-v'], { env }),
      await lab.cli(['plan'], { env }),
      await lab.cli(['data', 'status', '--dry-run'], { env }),
      await lab.cli(['status'], { env }),
    ];
    expect(outputs[0]?.exitCode).toBe(0);
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(secret);
    expect(outputs[0]?.stdout).toContain('nas-***');
    const written = [lab.path('.labsync/state.json'), ...readdirSync(lab.path('.labsync/logs')).map((f) => lab.path('.labsync/logs', f))];
    for (const f of written) expect(readFileSync(f, 'utf8')).not.toContain(secret);
  });

  it('status --max-age exits 1 for a pair whose last success is too old, or that never succeeded', async () => {
    const lab = mirrorLab();
    const never = await lab.cli(['status', '--max-age', '1h']);
    expect(never.exitCode).toBe(1);
    expect(never.stderr).toContain('raw: last success never, older than --max-age 1h');
    await lab.cli(['data', 'push']);
    expect((await lab.cli(['status', '--max-age', '1h'])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const stale = await lab.cli(['status', '--max-age', '1s', '--json']);
    expect(stale.exitCode).toBe(1);
    expect(json<{ ok: boolean; pairs: { stale: boolean }[] }>(stale)).toMatchObject({ ok: false, pairs: [{ stale: true }] });
    expect((await lab.cli(['status', '--max-age', 'soon'])).exitCode).toBe(2);
  });

  it('selects pairs by --tag and runs them concurrently', async () => {
    const lab = new Lab().manifest(`version: 1
remotes:
  nas: { type: local, path: ../nas }
data:
  - { name: a, local: a, remote: "nas:a", tags: [hourly] }
  - { name: b, local: b, remote: "nas:b" }
models:
  - { name: c, local: c, remote: "nas:c", tags: [hourly] }
`);
    for (const d of ['a', 'b', 'c']) lab.write(lab.path(d, 'f'), d);
    const r = json<RunDoc>(await lab.cli(['sync', '--tag', 'hourly', '--concurrency', '2', '--json']));
    expect(r.pairs.map((p) => [p.name, p.status])).toEqual([['a', 'ok'], ['c', 'ok']]);
    expect(existsSync(lab.outside('nas/b'))).toBe(false);
  });

  it('on a file system that keeps no change times (FUSE, FAT; here the test folder\'s own type, named in LABSYNC_TEST_UNKEPT_FS): no hash is remembered, every check reads both trees whole and says why (review 48)', async () => {
    const lab = mirrorLab();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // past the racy window: hashes taken now would be remembered
    type Checked = RunDoc & { pairs: { verify: { bytesHashed: { local: number; remote: number } } }[] };
    const bytes = async (env: Record<string, string>): Promise<[{ local: number; remote: number } | undefined, string]> => {
      const r = await lab.cli(['check', '--json'], { env });
      expect(r.exitCode).toBe(0);
      return [json<Checked>(r).pairs[0]?.verify.bytesHashed, r.stderr];
    };
    const type = (treeMounts(lab.path()) ?? '').split('\t')[0] as string;
    const unkept = { LABSYNC_TEST_UNKEPT_FS: type };
    await bytes({});
    // Kept change times: the check after a check reads nothing.
    expect((await bytes({}))[0]).toEqual({ local: 0, remote: 0 });
    // Unkept: every byte of both trees, each time, the stat keys being no proof.
    for (let i = 0; i < 2; i++) {
      const [read, stderr] = await bytes(unkept);
      expect(read).toEqual({ local: 60, remote: 60 });
      expect(stderr).toContain(`is on ${type}, where a rewrite that keeps a file's size and mtime`);
    }
    // A push there takes nothing on trust either: no transfer proof, no hash carried across the transfer.
    lab.write(lab.path('data/raw/f5.csv'), 'row 55\n');
    const push = await lab.cli(['data', 'push', '--json'], { env: unkept });
    expect(push.exitCode).toBe(0);
    expect(json<Checked>(push).pairs[0]?.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 61, remote: 61 } });
  });

  it('a same-size, same-mtime corruption that rsync\'s quick check misses: check reports it, a push plans it as a replace up front', async () => {
    const lab = mirrorLab();
    await lab.cli(['data', 'push']);
    const target = lab.outside('nas/raw/f5.csv');
    const { mtime } = statSync(target);
    writeFileSync(target, 'row X\n');
    utimesSync(target, mtime, mtime);
    // Past the hash caches' racy window (1 s), so what check hashes now is remembered for the push.
    await new Promise((r) => setTimeout(r, 1100));
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(json<RunDoc>(check).pairs[0]).toMatchObject({ status: 'drift', verify: { changed: ['f5.csv'], missing: [], extra: [] } });
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode).toBe(0);
    const pair = json<RunDoc & { pairs: { warnings: string[] }[] }>(r).pairs[0];
    // check hashed both sides: the listings' cached hashes differ, so the plan replaces it by content.
    expect(pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' }, changes: { transfer: ['f5.csv'], replace: ['f5.csv'], delete: [] } });
    expect(pair?.warnings).toEqual([]);
    expect(pair?.commands.some((c) => c.includes(' --ignore-times '))).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('row 5\n');
    const skipped = await lab.cli(['data', 'push', '--no-verify', '--json']);
    expect(json<RunDoc>(skipped).pairs[0]).toMatchObject({ status: 'ok', verify: null });
  });
});
