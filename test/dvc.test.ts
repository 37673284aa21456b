// dvc for datasets: real dvc against a local remote and moto S3 on 127.0.0.1.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { until } from './harness/wait.js';
import { expectTurnsTaken, finishedRuns, loggedRunHook, startWatch, stopWatch } from './harness/watch.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { pythonOf } from './harness/tools.js';

type Doc = { pairs: { status: string; error: string | null; warnings: string[]; changes?: { transfer: string[] }; verify: { status: string } | null }[] };
// null only off CI on a machine without moto_server (global-setup fails a CI run instead): these cases then skip.
const s3 = inject('s3');

async function run(lab: Lab, cwd: string, program: string, ...args: string[]): Promise<string> {
  return String((await execa(program, args, { cwd, env: { ...lab.env, ...S3_KEYS } })).stdout);
}

/** A git + dvc repository at the lab, with a bare git origin beside it and data/raw holding files. */
async function dvcLab(remotes: (lab: Lab) => string): Promise<Lab> {
  const lab = new Lab();
  await execa('git', ['init', '-q', '--bare', '--initial-branch=main', lab.outside('origin.git')], { env: lab.env });
  await execa('git', ['init', '-q', '--initial-branch=main', lab.path()], { env: lab.env });
  await run(lab, lab.path(), 'dvc', 'init', '-q');
  writeFileSync(lab.path('.gitignore'), '.labsync/\n');
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n${remotes(lab)}data:\n  - name: raw\n    tool: dvc\n    local: data/raw\n    remote: store:dvcstore\n`);
  await run(lab, lab.path(), 'git', 'add', '.');
  await run(lab, lab.path(), 'git', 'commit', '-q', '-m', 'dvc init');
  await run(lab, lab.path(), 'git', 'remote', 'add', 'origin', lab.outside('origin.git'));
  for (let i = 0; i < 4; i++) lab.write(lab.path('data/raw', `part-${i}.csv`), randomBytes(3000).toString('hex'));
  return lab;
}

const localStore = (lab: Lab): string => `  store: { type: local, path: "${lab.outside('store')}" }\n`;

describe('dvc', () => {
  it('push from one clone (with --commit), pull into a fresh clone: identical data', async () => {
    const lab = await dvcLab(localStore);
    const pushed = await lab.cli(['data', 'push', '--commit', 'track raw data', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(await run(lab, lab.path(), 'git', 'log', '-1', '--format=%s')).toBe('track raw data');
    expect(await run(lab, lab.path(), 'git', 'show', '--name-only', '--format=', 'HEAD')).toBe('data/.gitignore\ndata/raw.dvc');
    await run(lab, lab.path(), 'git', 'push', '-q', 'origin', 'HEAD:main');

    const fresh = new Lab();
    await execa('git', ['clone', '-q', lab.outside('origin.git'), fresh.path()], { env: fresh.env });
    writeFileSync(fresh.path('labsync.yaml'), readFileSync(lab.path('labsync.yaml')));
    const pulled = await fresh.cli(['data', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(fresh.tree(fresh.path('data/raw'))).toEqual(lab.tree(lab.path('data/raw')));
  });

  it('without --commit, says which files to commit; status reports a changed file (exit 4); dry run pushes nothing', async () => {
    const lab = await dvcLab(localStore);
    const r = await lab.cli(['data', 'push', '--json']);
    expect(json<Doc>(r).pairs[0]?.warnings).toEqual(['commit data/raw.dvc and data/.gitignore (or push with --commit "message") so others can pull this version']);
    expect((await lab.cli(['data', 'status'])).exitCode).toBe(0);
    writeFileSync(lab.path('data/raw/part-1.csv'), 'edited');
    const s = await lab.cli(['data', 'status', '--json']);
    expect(s.exitCode).toBe(4);
    expect(json<Doc>(s).pairs[0]?.changes?.transfer).toEqual(['data/raw (modified)']);
    const storeBefore = readdirSync(lab.outside('store'), { recursive: true }).length;
    const dry = await lab.cli(['data', 'push', '--dry-run', '--json']);
    expect(json<Doc>(dry).pairs[0]?.status).toBe('planned');
    expect(readdirSync(lab.outside('store'), { recursive: true }).length).toBe(storeBefore);
    expect((await lab.cli(['check'])).exitCode).toBe(4);
  });

  it('--commit refuses when other changes are staged, so they never ride along in its commit', async () => {
    const lab = await dvcLab(localStore);
    writeFileSync(lab.path('notes.md'), 'mine\n');
    await run(lab, lab.path(), 'git', 'add', 'notes.md');
    const r = await lab.cli(['data', 'push', '--commit', 'data', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]?.error).toBe('--commit would also commit what you have staged (notes.md); commit or unstage it first');
    expect(await run(lab, lab.path(), 'git', 'log', '-1', '--format=%s')).toBe('dvc init');
  });

  it('refuses a pull that would overwrite modified local data (exit 3), touching nothing', async () => {
    const lab = await dvcLab(localStore);
    await lab.cli(['data', 'push', '--commit', 'v1']);
    writeFileSync(lab.path('data/raw/part-2.csv'), 'my unsaved work');
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/^local data differs from data\/raw\.dvc: data\/raw \(modified\)/);
    expect(readFileSync(lab.path('data/raw/part-2.csv'), 'utf8')).toBe('my unsaved work');
  });

  it('a purged cache with the workspace intact, pushed to a new store: added and sent again, never "in sync" with an empty store', async () => {
    const lab = await dvcLab(localStore);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    // An HPC scratch purge of the cache, and the pair pointed at a store that has nothing yet.
    const { rmSync } = await import('node:fs');
    rmSync(lab.path('.dvc/cache'), { recursive: true, force: true });
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace(lab.outside('store'), lab.outside('store2')));
    const checked = await lab.cli(['data', 'check', '--json']);
    expect(checked.exitCode, checked.stdout).toBe(4);
    const pushed = await lab.cli(['data', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
    expect(files(lab.outside('store2')).length).toBe(5); // four parts and the folder's .dir
  });

  it('a .dvc file whose output names its own DVC remote is refused (exit 3): dvc would push there, and the pair\'s store would be checked empty', async () => {
    const lab = await dvcLab(localStore);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    writeFileSync(lab.path('data/raw.dvc'), readFileSync(lab.path('data/raw.dvc'), 'utf8').replace(/^(\s*)- md5:/m, '$1- remote: team\n$1  md5:'));
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/^data\/raw\.dvc sends its data to the DVC remote 'team'/);
  });

  it('several dvc pairs of one repository, run at once (concurrency 4), go one at a time: every remote configured, every folder tracked and pushed', async () => {
    const lab = await dvcLab(localStore);
    for (const name of ['a', 'b']) for (let i = 0; i < 2; i++) lab.write(lab.path('data', name, `part-${i}.csv`), randomBytes(500).toString('hex'));
    lab.manifest(`${readFileSync(lab.path('labsync.yaml'), 'utf8')}  - name: a\n    tool: dvc\n    local: data/a\n    remote: store:a\n  - name: b\n    tool: dvc\n    local: data/b\n    remote: store:b\n`);
    const r = await lab.cli(['data', 'push', '--concurrency', '4', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs.map((p) => p.status)).toEqual(['ok', 'ok', 'ok']);
    // One at a time: no pair's run overlaps another's.
    const spans = json<{ pairs: { startedAt: string; durationMs: number }[] }>(r).pairs.map((p) => [Date.parse(p.startedAt), Date.parse(p.startedAt) + p.durationMs] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number);
    const config = readFileSync(lab.path('.dvc/config.local'), 'utf8');
    for (const name of ['raw', 'a', 'b']) expect(config).toContain(`['remote "labsync-${name}"']`);
  });

  it('watch runs two dvc pairs of one repository one at a time, as push does (review 70: it ran them at once; dvc\'s lock or one commit sweeping up the other\'s .dvc file)', async () => {
    const lab = await dvcLab(localStore);
    const runs = lab.outside('runs.log');
    const hooks = (name: string): string => loggedRunHook(runs, name);
    for (const name of ['a', 'b']) lab.write(lab.path('data', name, 'part-0.csv'), randomBytes(500).toString('hex'));
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n${localStore(lab)}data:\n  - name: a\n    tool: dvc\n    local: data/a\n    remote: store:a\n${hooks('a')}  - name: b\n    tool: dvc\n    local: data/b\n    remote: store:b\n${hooks('b')}`);
    expect((await lab.cli(['data', 'push', '--commit', 'v1'])).exitCode).toBe(0);
    writeFileSync(runs, '');
    const { run } = await startWatch(lab, '0.3', { ready: ', b (' });
    // One save in each, at once: both pairs are due together.
    for (const name of ['a', 'b']) lab.write(lab.path('data', name, 'part-1.csv'), randomBytes(500).toString('hex'));
    await until('both runs', () => finishedRuns(lab) === 2, 60_000);
    await stopWatch(lab, run);
    expectTurnsTaken(runs, 2);
  }, 120_000);

  it('reports dvc\'s own lock as locked (exit 75), not failed', async () => {
    const lab = await dvcLab(localStore);
    await lab.cli(['data', 'push', '--commit', 'v1']);
    // dvc's own Python (its venv's, when ensure-tools installed it), not the machine's python3.
    const holder = execa(await pythonOf('dvc', lab.env.PATH ?? ''), ['-c', `import time\nfrom dvc.lock import make_lock\nl = make_lock('${lab.path('.dvc/tmp/lock')}', tmp_dir='${lab.path('.dvc/tmp')}', hardlink_lock=False)\nl.lock()\nprint('held', flush=True)\ntime.sleep(60)`], { env: lab.env });
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    try {
      const r = await lab.cli(['data', 'status', '--json']);
      expect(r.exitCode).toBe(75);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'locked', error: expect.stringMatching(/^another dvc process holds this repository's lock/) });
    } finally {
      holder.kill('SIGKILL');
      await holder.catch(() => undefined);
    }
  });

  it.skipIf(!s3)('pushes to S3 with the endpoint only in .dvc/config.local and no secret anywhere', async () => {
    const server = s3 as S3Server;
    const bucketLab = new Lab();
    const bucket = await makeBucket(server, bucketLab.env);
    const lab = await dvcLab(() => `  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }\n`);
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    const committed = readFileSync(lab.path('.dvc/config'), 'utf8');
    const local = readFileSync(lab.path('.dvc/config.local'), 'utf8');
    expect(committed).not.toContain('labsync-raw');
    expect(local).toContain(`url = s3://${bucket}/lab/dvcstore`);
    expect(local).toContain(`endpointurl = ${server.endpoint}`);
    for (const text of [committed, local, r.stdout, r.stderr]) expect(text).not.toContain(S3_KEYS.AWS_SECRET_ACCESS_KEY);
    const listing = await run(lab, lab.path(), 'aws', '--endpoint-url', server.endpoint, 's3', 'ls', '--recursive', `s3://${bucket}/lab/dvcstore/`);
    expect(listing.trim().split('\n').length).toBeGreaterThanOrEqual(5);
  });
});
