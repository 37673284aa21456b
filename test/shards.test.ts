// One pair split across N workers (issue 16 §3), with the real tools: rsync (local and over the
// loopback sshd), aws and rclone against moto. Counted from receipts and --json, never timed.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab, type CliResult } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { type SshHost, sshRemote } from './harness/sshd.js';
import { until } from './harness/wait.js';

const ssh = inject('sshHost');
const s3 = inject('s3');

interface Pair { status: string; error: string | null; files: number; bytes: number; changes?: { transfer: string[]; delete: string[] }; verify: { status: string } | null; shard?: { index: number; count: number; run: string | null } }
interface Doc { pairs: Pair[] }
interface Receipt { pair: string; status: string; files: number; shard?: { index: number; count: number; run: string | null } }

const FILES = 24;
function fill(lab: Lab, dir = 'raw'): void {
  for (let i = 0; i < FILES; i++) lab.write(lab.path(dir, `d${i % 4}`, `f${i}.bin`), `file ${i} `.repeat(i + 1));
}

const manifest = (remote: string, extra = '', remotes = ''): string => `version: 1
defaults:
  retries: 0
${remotes}data:
  - name: raw
    local: raw
    remote: ${remote}
${extra}`;

const pairOf = (r: CliResult): Pair => {
  const p = json<Doc>(r).pairs[0];
  if (!p) throw new Error(`no pair in ${r.stdout}`);
  return p;
};

function receipts(lab: Lab): Receipt[] {
  const dir = lab.path('.labsync', 'receipts');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Receipt);
}

/** Runs shards 0..N-1 one after another; each must end ok. */
async function runShards(lab: Lab, n: number, args: readonly string[], env: Record<string, string> = {}): Promise<Pair[]> {
  const out: Pair[] = [];
  for (let k = 0; k < n; k++) {
    const r = await lab.cli([...args, '--shard', `${k}/${n}`, '--json'], { env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    out.push(pairOf(r));
  }
  return out;
}

/** Each file moved by exactly one shard, and all of them between the shards. */
function expectPartition(shards: readonly Pair[], all: number): void {
  const moved = shards.flatMap((s) => s.changes?.transfer ?? []);
  expect(new Set(moved).size).toBe(moved.length);
  expect(moved).toHaveLength(all);
  expect(shards.reduce((n, s) => n + s.files, 0)).toBe(all);
  const runs = new Set(shards.map((s) => s.shard?.run));
  expect(runs.size).toBe(1);
  expect([...runs][0]).toMatch(/^[0-9a-f]{64}$/);
}

describe('shards: rsync to a local remote', () => {
  it('three shards one after another equal a single-worker run; each file is sent by exactly one shard, counted from the receipts', async () => {
    const lab = new Lab();
    lab.manifest(manifest(`file://${lab.outside('nas')}`, '    delete: true\n'));
    fill(lab);
    const shards = await runShards(lab, 3, ['data', 'push']);
    expectPartition(shards, FILES);
    expect(shards.map((s) => s.shard?.index)).toEqual([0, 1, 2]);
    expect(shards.every((s) => s.verify?.status === 'in_sync')).toBe(true);
    expect(lab.tree(lab.outside('nas'))).toEqual(lab.tree(lab.path('raw')));

    const single = new Lab();
    single.manifest(manifest(`file://${single.outside('nas')}`, '    delete: true\n'));
    fill(single);
    expect((await single.cli(['data', 'push'])).exitCode).toBe(0);
    expect(lab.tree(lab.outside('nas'))).toEqual(single.tree(single.outside('nas')));

    const got = receipts(lab);
    expect(got.map((r) => r.shard?.index).sort()).toEqual([0, 1, 2]);
    expect(got.reduce((n, r) => n + r.files, 0)).toBe(FILES);
    const status = await lab.cli(['status']);
    expect(status.stdout).toMatch(/data\.raw\s+rsync\s+push .*ok \(3 shards\)\s+24 /);
    const listed = await lab.cli(['receipts', '--json']);
    expect(json<{ receipts: Receipt[] }>(listed).receipts.map((r) => `${r.shard?.index}/${r.shard?.count} ${r.status}`).sort()).toEqual(['0/3 ok', '1/3 ok', '2/3 ok']);
    expect((await lab.cli(['receipts', 'raw'])).stdout).toMatch(/^TIME\s+PAIR\s+ACTION\s+SHARD\s+RESULT\s+FILES\s+BYTES\s+RUN\n.*data\.raw\s+push\s+0\/3\s+ok/m);
  });

  it('a missing shard leaves the run incomplete and is named; its rerun completes it', async () => {
    const lab = new Lab();
    lab.manifest(manifest(`file://${lab.outside('nas')}`));
    fill(lab);
    for (const k of [0, 2]) {
      const r = await lab.cli(['data', 'push', '--shard', `${k}/3`]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`raw \\(shard ${k}/3\\): ok — \\d+ files`));
    }
    const status = await lab.cli(['status']);
    expect(status.stdout).toContain('incomplete (2/3 shards)');
    expect(status.stdout).toMatch(/data\.raw: last split run [0-9a-f]{12} incomplete, 2\/3 shards ok: shard 1 missing; rerun those with --shard K\/3/);
    const asJson = json<{ pairs: { shards: { complete: boolean; missing: number[] } }[] }>(await lab.cli(['status', '--json']));
    expect(asJson.pairs[0]?.shards).toMatchObject({ complete: false, missing: [1] });
    const stale = await lab.cli(['status', '--max-age', '1h']);
    expect(stale.exitCode).toBe(1); // two shards ok are not a success of the pair
    expect(stale.stderr).toContain('raw: last success never');
    const check = await lab.cli(['check']);
    expect(check.exitCode).toBe(4); // shard 1's files are not there: drift, and the shard to rerun is named
    expect(check.stdout + check.stderr).toContain('shard 1 missing');
    const shard1 = await lab.cli(['check', '--shard', '1/3', '--json']);
    expect(pairOf(shard1)).toMatchObject({ status: 'drift' });
    expect(pairOf(await lab.cli(['check', '--shard', '0/3', '--json']))).toMatchObject({ status: 'in_sync' });

    expect((await lab.cli(['data', 'push', '--shard', '1/3'])).exitCode).toBe(0);
    expect((await lab.cli(['status'])).stdout).toContain('ok (3 shards)');
    expect((await lab.cli(['status', '--max-age', '1h'])).exitCode).toBe(0);
    expect(lab.tree(lab.outside('nas'))).toEqual(lab.tree(lab.path('raw')));
    expect((await lab.cli(['check'])).exitCode).toBe(0);
  });

  it('two shards of a mirror at once: each takes its own lock (pair + shard) and none the remote lock, so one slice never waits for another', async () => {
    const lab = new Lab();
    const go = lab.outside('go');
    // A worker started with HOLD=1 keeps its lock until the test says go: what runs meanwhile is decided by the locks, not by timing.
    // A mirror: remote_lock is on by default, and must not serialise the shards of one run.
    lab.manifest(manifest(`file://${lab.outside('nas')}`, `    delete: true\n    hooks: { before: ["sh", "-c", "while [ -n \\"$HOLD\\" ] && [ ! -e '${go}' ]; do touch '${go}.held'; sleep 0.05; done"] }\n`));
    fill(lab);
    const first = lab.spawn(['data', 'push', '--shard', '0/2', '--json'], { env: { HOLD: '1' } });
    // In its hook: past every lock it takes (local, and at the remote if it took one).
    await until('shard 0 in its hook, holding its locks', () => existsSync(`${go}.held`) && existsSync(lab.path('.labsync/locks/raw.shard-0-of-2.lock')));
    const other = await lab.cli(['data', 'push', '--shard', '1/2', '--json']);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(existsSync(lab.path('.labsync/locks/raw.shard-0-of-2.lock'))).toBe(true); // shard 1 finished while shard 0 held its lock
    writeFileSync(go, '');
    const done = await first;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expectPartition([pairOf({ exitCode: 0, stdout: String(done.stdout), stderr: '', durationMs: 0 }), pairOf(other)], FILES);
    expect(lab.tree(lab.outside('nas'))).toEqual(lab.tree(lab.path('raw')));
  });

  it('the same shard twice at once: the second exits 75 naming the holder', async () => {
    const lab = new Lab();
    const go = lab.outside('go');
    lab.manifest(manifest(`file://${lab.outside('nas')}`, `    hooks: { before: ["sh", "-c", "while [ -n \\"$HOLD\\" ] && [ ! -e '${go}' ]; do sleep 0.05; done"] }\n`));
    fill(lab);
    const first = lab.spawn(['data', 'push', '--shard', '0/2'], { env: { HOLD: '1' } });
    await until('shard 0 holds its lock', () => existsSync(lab.path('.labsync/locks/raw.shard-0-of-2.lock')));
    const twice = await lab.cli(['data', 'push', '--shard', '0/2']);
    expect(twice.exitCode).toBe(75);
    expect(twice.stdout + twice.stderr).toMatch(/locked by PID \d+/);
    writeFileSync(go, '');
    expect((await first).exitCode).toBe(0);
  });

  it('the guard judges the whole plan: a mirror over max_delete is refused by every shard, and nothing is deleted', async () => {
    const lab = new Lab();
    lab.manifest(manifest(`file://${lab.outside('nas')}`, '    delete: true\n    max_delete: 3\n'));
    fill(lab);
    for (let i = 0; i < 6; i++) lab.write(lab.outside('nas', `old${i}.bin`), 'stale');
    for (let i = 0; i < 3; i++) lab.write(lab.outside('nas', 'olddir', 'deep', `g${i}`), 'stale'); // a folder the source lacks: deleted whole by one shard
    const verdicts: string[] = [];
    for (let k = 0; k < 3; k++) {
      const r = await lab.cli(['data', 'push', '--shard', `${k}/3`, '--json']);
      expect(r.exitCode).toBe(3);
      verdicts.push(pairOf(r).error ?? '');
    }
    expect(new Set(verdicts).size).toBe(1);
    expect(verdicts[0]).toMatch(/would delete 9 of 9 files at the destination \(100%\), over max_delete 3/);
    expect(Object.keys(lab.tree(lab.outside('nas')))).toHaveLength(9);
    // Under the limit, the deletions are split too: each removed exactly once.
    lab.manifest(manifest(`file://${lab.outside('nas')}`, '    delete: true\n    max_delete: 10\n'));
    const shards = await runShards(lab, 3, ['data', 'push']);
    expect(shards.flatMap((s) => s.changes?.delete ?? []).sort()).toEqual(['old0.bin', 'old1.bin', 'old2.bin', 'old3.bin', 'old4.bin', 'old5.bin', 'olddir/deep/g0', 'olddir/deep/g1', 'olddir/deep/g2']);
    expect(shards.filter((s) => s.changes?.delete.some((p) => p.startsWith('olddir/')))).toHaveLength(1);
    expect(lab.tree(lab.outside('nas'))).toEqual(lab.tree(lab.path('raw')));
  });

  it('takes K/N from a Slurm array or an Indexed Job for a pair with shards:, and never without one', async () => {
    const lab = new Lab();
    lab.manifest(manifest(`file://${lab.outside('nas')}`, '    shards: 3\n'));
    fill(lab);
    const slurm = (k: number) => ({ SLURM_ARRAY_TASK_ID: String(k + 1), SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' });
    const viaSlurm = [];
    for (const k of [0, 1]) {
      const r = await lab.cli(['sync', '--json'], { env: slurm(k) });
      expect(r.exitCode, r.stderr).toBe(0);
      viaSlurm.push(pairOf(r));
    }
    expect(viaSlurm.map((p) => p.shard)).toMatchObject([{ index: 0, count: 3 }, { index: 1, count: 3 }]);
    const k8s = await lab.cli(['sync', '--json'], { env: { JOB_COMPLETION_INDEX: '2' } });
    expect(pairOf(k8s).shard).toMatchObject({ index: 2, count: 3 });
    expectPartition([...viaSlurm, pairOf(k8s)], FILES);
    expect(lab.tree(lab.outside('nas'))).toEqual(lab.tree(lab.path('raw')));

    const wrongArray = await lab.cli(['sync'], { env: { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' } });
    expect(wrongArray.exitCode).toBe(2);
    expect(wrongArray.stderr).toContain('data.raw: the Slurm array has 4 tasks (SLURM_ARRAY_TASK_COUNT) but the pair is split into 3 shards; submit it with --array=0-2');

    // Without shards: an array job that runs labsync for something else moves the whole pair.
    const plain = new Lab();
    plain.manifest(manifest(`file://${plain.outside('nas')}`));
    fill(plain);
    const whole = await plain.cli(['sync', '--json'], { env: { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3', JOB_COMPLETION_INDEX: '1' } });
    expect(pairOf(whole)).toMatchObject({ status: 'ok', files: FILES });
    expect(pairOf(whole).shard).toBeUndefined();
    const forced = await plain.cli(['sync', '--json'], { env: { JOB_COMPLETION_INDEX: '1', LABSYNC_SHARDS: '2' } });
    expect(pairOf(forced).shard).toMatchObject({ index: 1, count: 2 });
  });

  it('refuses bad --shard values, a disagreeing N, and pairs whose tool owns its diff', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1
data:
  - name: raw
    local: raw
    remote: file://${lab.outside('nas')}
    shards: 3
code:
  - name: repo
    local: .
    remote: origin
`);
    fill(lab);
    expect((await lab.cli(['receipts'])).stdout).toBe('no receipts yet');
    const typo = await lab.cli(['receipts', 'rwa']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("no pair named 'rwa'");
    for (const [arg, message] of [['3/3', 'K must be a whole number from 0 to 2'], ['x', 'needs K/N'], ['0/0', 'N must be a whole number from 1 to 10000'], ['-1/2', 'K must be']] as const) {
      const r = await lab.cli(['data', 'push', '--shard', arg]);
      expect(r.exitCode, arg).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const n = await lab.cli(['data', 'push', '--shard', '0/2']);
    expect(n.exitCode).toBe(2);
    expect(n.stderr).toContain('--shard 0/2 splits data.raw into 2, but the manifest says shards: 3');
    expect((await lab.cli(['data', 'status', '--shard', '0/3'])).stderr).toContain('--shard applies to push, pull, sync and check');
    const git = await lab.cli(['code', 'push', '--shard', '0/3', '--json']);
    expect(git.exitCode).toBe(3);
    expect(pairOf(git).error).toContain('code.repo cannot run as a shard: git moves the whole repository state itself');
    expect(readdirSync(lab.outside()).includes('nas')).toBe(false);

    lab.manifest(`version: 1\ncode:\n  - name: repo\n    local: .\n    remote: origin\n    shards: 2\n`);
    const v = await lab.cli(['validate']);
    expect(v.exitCode).toBe(2);
    expect(v.stderr).toMatch(/code\.repo: shards: a pair is split only where labsync plans the files itself/);
  });
});

describe.skipIf(!ssh)('shards: rsync over ssh (loopback sshd)', () => {
  it('three shards push and then pull; the union equals the source both ways', async () => {
    const host = ssh as SshHost;
    const lab = new Lab();
    lab.manifest(manifest('"gpu:raw"', '    delete: true\n', `remotes:\n  gpu: ${sshRemote(host, lab.outside('gpu'))}\n`));
    fill(lab);
    expectPartition(await runShards(lab, 3, ['data', 'push']), FILES);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual(lab.tree(lab.path('raw')));

    const back = new Lab();
    back.manifest(manifest('"gpu:raw"', '    mode: pull\n', `remotes:\n  gpu: ${sshRemote(host, lab.outside('gpu'))}\n`));
    expectPartition(await runShards(back, 3, ['data', 'pull']), FILES);
    expect(back.tree(back.path('raw'))).toEqual(lab.tree(lab.path('raw')));
  });
});

describe.skipIf(!s3)('shards: aws and rclone against S3 (moto)', () => {
  const server = s3 as S3Server;
  const store = (bucket: string): string => `remotes:\n  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }\n`;

  it('aws: three shards push, then three shards pull into an empty folder; the same tree, each object moved once', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest('store:raw', '    delete: true\n', store(bucket)));
    fill(lab);
    expectPartition(await runShards(lab, 3, ['data', 'push'], S3_KEYS), FILES);
    expect((await lab.cli(['check'], { env: S3_KEYS })).exitCode).toBe(0);

    const back = new Lab();
    back.manifest(manifest('store:raw', '    mode: pull\n', store(bucket)));
    expectPartition(await runShards(back, 3, ['data', 'pull'], S3_KEYS), FILES);
    expect(back.tree(back.path('raw'))).toEqual(lab.tree(lab.path('raw')));
  });

  it('rclone: three shards push to S3 and verify their slices, then three pull it back', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest('store:raw', '    tool: rclone\n', store(bucket)));
    fill(lab);
    const shards = await runShards(lab, 3, ['data', 'push'], S3_KEYS);
    expectPartition(shards, FILES);
    expect(shards.every((s) => s.verify?.status === 'in_sync')).toBe(true);
    expect((await lab.cli(['check'], { env: S3_KEYS })).exitCode).toBe(0);

    const back = new Lab();
    back.manifest(manifest('store:raw', '    tool: rclone\n    mode: pull\n', store(bucket)));
    expectPartition(await runShards(back, 3, ['data', 'pull'], S3_KEYS), FILES);
    expect(back.tree(back.path('raw'))).toEqual(lab.tree(lab.path('raw')));
  });
});
