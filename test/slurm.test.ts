// The sbatch scripts `labsync schedule --slurm` writes, run by a real Slurm (slurm-wlm + munge, one node on
// 127.0.0.1, test/harness/slurm.ts): a job array of N shards against a local remote and against S3 (moto)
// ends with what one worker alone leaves, every shard's receipt written; a shard cancelled before it
// started, or while it transfers, leaves the pair incomplete, and that shard resubmitted alone completes it.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { shardOf } from '../src/engine/shard.js';
import { processesMentioning } from './harness/processes.js';
import { until } from './harness/wait.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { finished, queued, sbatch, slurm, slurmMissing, startSlurm, stopSlurm, waitDone, type SlurmCluster } from './harness/slurm.js';

const missing = slurmMissing();
// As root, `npm test` (and CI) install Slurm through scripts/ensure-tools.sh: there a missing Slurm
// fails the run below instead of skipping. Another user cannot install it, and skips saying why.
const canRun = missing === null || process.getuid?.() === 0;
const s3 = inject('s3');
const SHARDS = 3;
// A whole array, a single-worker run and the checks: well under a minute alone, more with the full suite beside it.
const SLOW = 240_000;

/** relative path → sha256 of every file under `dir`. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** 40 files in nested folders, with content that differs per file (a byte count that differs too). */
function writeCorpus(lab: Lab): void {
  for (let i = 0; i < 40; i++) lab.write(lab.path('data', 'corpus', `part-${i % 4}`, `shard-file-${i}.txt`), `${'x'.repeat(100 + i)} ${i}\n`);
}

const manifest = (remote: string, extra = ''): string => `version: 1
defaults:
  retries: 0
remotes:
${remote}
data:
  - name: corpus
    local: data/corpus
    remote: store:corpus
    shards: ${SHARDS}
    schedule: "15 3 * * *"
${extra}`;
const LOCAL = '  store: { type: local, path: ../store }';

interface StatusDoc { pairs: { name: string; shards?: { complete: boolean; ok: number[]; missing: number[]; count: number } }[] }

/** The shard receipts of the pair's runs: index → files it moved. */
function shardReceipts(lab: Lab): { index: number; count: number; files: number; status: string }[] {
  const dir = lab.path('.labsync', 'receipts');
  return readdirSync(dir).filter((f) => /-corpus\.shard-\d+-of-\d+\.json$/.test(f)).map((f) => {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { shard: { index: number; count: number }; files: number; status: string };
    return { index: r.shard.index, count: r.shard.count, files: r.files, status: r.status };
  });
}

/** Submit-to-done times, printed once at the end for the README (wall clock on a loaded 2-core machine). */
const timings: string[] = [];

describe.skipIf(!canRun)('a sharded pair on a real Slurm (one node on 127.0.0.1)', () => {
  let cluster: SlurmCluster;
  const temp = mkdtempSync(join(tmpdir(), 'labsync-slurm-'));

  beforeAll(async () => {
    cluster = await startSlurm(join(temp, 'cluster'));
  }, 60_000);

  afterAll(async () => {
    if (timings.length) process.stderr.write(`\nslurm timings: ${timings.join('; ')}\n`);
    if (cluster) {
      const leftover = await stopSlurm(cluster);
      // Cancelling did the work: no job process had to be killed after the daemons stopped.
      expect(leftover).toBe(0);
    }
    rmSync(temp, { recursive: true, force: true });
  }, 60_000);

  /** `labsync schedule --slurm --install` in the lab: the script's path. */
  async function install(lab: Lab): Promise<string> {
    const r = await lab.cli(['schedule', '--slurm', '--install']);
    expect(r.exitCode, r.stderr).toBe(0);
    const script = lab.path('.labsync', 'slurm', 'corpus.sbatch');
    expect(r.stdout).toContain(`sbatch ${script}`);
    return script;
  }

  /** Submits with the lab's environment (jobs inherit it) and waits for the whole array. */
  async function runArray(lab: Lab, script: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<string> {
    const started = Date.now();
    const job = await sbatch(cluster, [...args, script], { ...lab.env, ...env });
    await waitDone(cluster, job);
    timings.push(`${args.join(' ') || `--array=0-${SHARDS - 1}`} ${Date.now() - started} ms`);
    return job;
  }

  /** Every task of `job` completed; a failed one's message carries its log (.labsync/logs/slurm/). */
  function expectCompleted(job: string, tasks: readonly string[], lab?: Lab): void {
    const records = finished(cluster, job);
    expect(records.map((r) => r.arrayTaskId).sort()).toEqual([...tasks].sort());
    const logOf = (task: string): string => {
      const dir = lab?.path('.labsync', 'logs', 'slurm');
      const file = dir && existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith(`-${job}_${task}.log`)) : undefined;
      return dir && file ? readFileSync(join(dir, file), 'utf8').slice(-3000) : '(no log)';
    };
    for (const r of records) {
      const ok = r.state === 'COMPLETED' && r.exitCode === '0:0';
      expect([r.state, r.exitCode], ok ? `task ${r.arrayTaskId}` : `task ${r.arrayTaskId}:\n${logOf(String(r.arrayTaskId))}`).toEqual(['COMPLETED', '0:0']);
    }
  }

  async function expectWholeRun(lab: Lab): Promise<void> {
    const receipts = shardReceipts(lab);
    expect(receipts.map((r) => r.index).sort()).toEqual([0, 1, 2]);
    expect(receipts.every((r) => r.count === SHARDS && r.status === 'ok')).toBe(true);
    // Each file moved by exactly one shard.
    expect(receipts.reduce((n, r) => n + r.files, 0)).toBe(40);
    const status = await lab.cli(['status', '--json'], { env: S3_KEYS });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(json<StatusDoc>(status).pairs[0]?.shards).toMatchObject({ complete: true, count: SHARDS, missing: [] });
  }

  it('the array against a local remote: the union of its shards equals one worker\'s run', async () => {
    // A space in every path: the #SBATCH --output value and the script's cd must both survive it.
    const lab = new Lab('labsync slurm-');
    writeCorpus(lab);
    lab.manifest(manifest(LOCAL));
    const doctor = json<{ tools: { program: string; path?: string; version?: string }[] }>(await lab.cli(['doctor', '--json']));
    expect(doctor.tools.find((t) => t.program === 'slurm')).toMatchObject({ path: expect.stringMatching(/\/sbatch$/), version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    const script = await install(lab);
    const job = await runArray(lab, script);
    expectCompleted(job, ['0', '1', '2'], lab);
    for (const k of [0, 1, 2]) expect(existsSync(lab.path('.labsync', 'logs', 'slurm', `corpus-${job}_${k}.log`)), `log of task ${k}`).toBe(true);
    // The directives as Slurm read them: the job name, and the limit from timeout 2h × (retries 0 + 1).
    const shown = await slurm(cluster, 'scontrol', ['show', 'job', `${job}_0`]);
    expect(shown.stdout).toMatch(/JobName=labsync-corpus\b/);
    expect(shown.stdout).toMatch(/TimeLimit=02:00:00\b/);
    const source = hashes(lab.path('data', 'corpus'));
    expect(Object.keys(source)).toHaveLength(40);
    expect(hashes(lab.outside('store', 'corpus'))).toEqual(source);
    await expectWholeRun(lab);

    // One worker, the same files, no index anywhere: the pair runs whole, to the same result.
    const single = new Lab();
    writeCorpus(single);
    single.manifest(manifest(LOCAL));
    const r = await single.cli(['sync', 'corpus']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(hashes(single.outside('store', 'corpus'))).toEqual(hashes(lab.outside('store', 'corpus')));
  }, SLOW);

  it.skipIf(!s3)('the array against S3 (moto): the union of its shards equals one worker\'s run', async () => {
    const server = s3 as S3Server;
    const remote = (bucket: string): string => `  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`;
    const download = async (lab: Lab, bucket: string, to: string): Promise<Record<string, string>> => {
      await awsCli(server, lab.env, ['s3', 'cp', '--recursive', '--quiet', `s3://${bucket}/lab/corpus/`, to]);
      return hashes(to);
    };
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    writeCorpus(lab);
    lab.manifest(manifest(remote(bucket)));
    const script = await install(lab);
    const job = await runArray(lab, script, [], S3_KEYS);
    expectCompleted(job, ['0', '1', '2'], lab);
    const sharded = await download(lab, bucket, lab.outside('downloaded'));
    expect(sharded).toEqual(hashes(lab.path('data', 'corpus')));
    await expectWholeRun(lab);

    const single = new Lab();
    const singleBucket = await makeBucket(server, single.env);
    writeCorpus(single);
    single.manifest(manifest(remote(singleBucket)));
    const r = await single.cli(['sync', 'corpus'], { env: S3_KEYS });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await download(single, singleBucket, single.outside('downloaded'))).toEqual(sharded);
  }, SLOW);

  it('a shard cancelled before it starts leaves the pair incomplete; that shard resubmitted alone completes it', async () => {
    const lab = new Lab();
    writeCorpus(lab);
    lab.manifest(manifest(LOCAL));
    const script = await install(lab);
    // %1: one task at a time, so task 2 cannot start before tasks 0 and 1 have finished: cancelling it
    // right after the submit always finds it pending.
    const started = Date.now();
    const job = await sbatch(cluster, ['--array=0-2%1', script], lab.env);
    const cancel = await slurm(cluster, 'scancel', [`${job}_2`]);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect((await queued(cluster, job)).join('\n')).not.toMatch(new RegExp(`^${job}_2 `, 'm'));
    await waitDone(cluster, job);
    timings.push(`--array=0-2%1 with task 2 cancelled ${Date.now() - started} ms`);
    // A pending task cancelled leaves no record: only tasks 0 and 1 ran.
    expectCompleted(job, ['0', '1'], lab);

    const source = hashes(lab.path('data', 'corpus'));
    const sliceOf2 = Object.keys(source).filter((p) => shardOf(p, SHARDS) === 2);
    expect(sliceOf2.length).toBeGreaterThan(0);
    const expected = Object.fromEntries(Object.entries(source).filter(([p]) => !sliceOf2.includes(p)));
    expect(hashes(lab.outside('store', 'corpus'))).toEqual(expected);
    const incomplete = await lab.cli(['status', '--json']);
    expect(json<StatusDoc>(incomplete).pairs[0]?.shards).toMatchObject({ complete: false, ok: [0, 1], missing: [2] });
    const text = await lab.cli(['status']);
    expect(text.stdout).toMatch(/incomplete, 2\/3 shards ok: shard 2 missing/);

    // The script names its shard from the task's own index: one task resubmitted alone still knows N.
    const again = await runArray(lab, script, ['--array=2']);
    expectCompleted(again, ['2'], lab);
    expect(hashes(lab.outside('store', 'corpus'))).toEqual(source);
    await expectWholeRun(lab);
  }, SLOW);

  it('a shard cancelled while it transfers (scancel J_1): no file half-written under its name, the pair incomplete; resubmitted, complete', async () => {
    const lab = new Lab();
    writeCorpus(lab);
    // A file big enough, at the pair's bwlimit, to be mid-transfer when the cancel lands; in shard 1's slice.
    const big = [...Array(100).keys()].map((i) => `big-${i}.bin`).find((n) => shardOf(n, SHARDS) === 1) as string;
    lab.write(lab.path('data', 'corpus', big), randomBytes(1536 * 1024));
    lab.manifest(manifest(LOCAL, '    bwlimit: 200K\n'));
    const script = await install(lab);
    const job = await sbatch(cluster, [script], lab.env);
    const log = lab.path('.labsync', 'logs', 'slurm', `corpus-${job}_1.log`);
    await until('shard 1 to be running', () => existsSync(log) && readFileSync(log, 'utf8').includes('started'), 60_000);
    await until('an rsync at the bwlimit', () => processesMentioning(lab.outside('store')).some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes('--bwlimit')), 30_000);
    const cancel = await slurm(cluster, 'scancel', [`${job}_1`]);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    await waitDone(cluster, job);
    const records = finished(cluster, job);
    expect(records.find((r) => r.arrayTaskId === '1')?.state).toBe('CANCELLED');
    expect(records.filter((r) => r.arrayTaskId !== '1').map((r) => r.state)).toEqual(['COMPLETED', 'COMPLETED']);
    // Slurm's SIGTERM reached labsync (exec'd by the script) and its rsync: nothing of theirs is left.
    expect(processesMentioning(lab.outside('store'))).toEqual([]);
    expect(existsSync(lab.outside('store', 'corpus', big))).toBe(false);
    const incomplete = json<StatusDoc>(await lab.cli(['status', '--json'])).pairs[0]?.shards;
    expect(incomplete).toMatchObject({ complete: false, count: SHARDS });
    expect(incomplete?.ok).not.toContain(1);

    const again = await runArray(lab, script, ['--array=1']);
    expectCompleted(again, ['1'], lab);
    expect(hashes(lab.outside('store', 'corpus'))).toEqual(hashes(lab.path('data', 'corpus')));
    const status = json<StatusDoc>(await lab.cli(['status', '--json'])).pairs[0]?.shards;
    expect(status).toMatchObject({ complete: true, ok: [0, 1, 2] });
  }, SLOW);
});

describe('schedule --slurm without a cluster', () => {
  it('prints the scripts, --install writes them and the log folder, --remove deletes them; run outside an array it refuses', async () => {
    const lab = new Lab().manifest(manifest(LOCAL));
    const script = lab.path('.labsync', 'slurm', 'corpus.sbatch');
    const printed = await lab.cli(['schedule', '--slurm']);
    expect(printed.exitCode, printed.stderr).toBe(0);
    expect(printed.stdout).toContain(`# ${script}\n#!/bin/sh\n`);
    expect(printed.stdout).toContain('#SBATCH --array=0-2\n');
    expect(existsSync(lab.path('.labsync', 'slurm'))).toBe(false);
    const installed = await lab.cli(['schedule', '--slurm', '--install']);
    expect(installed.stdout).toBe(`wrote 1 sbatch script to ${lab.path('.labsync', 'slurm')}; submit with: sbatch ${script}`);
    // What was printed (its final newline stripped by the harness) is what was written.
    expect(readFileSync(script, 'utf8')).toBe(`${printed.stdout.slice(`# ${script}\n`.length)}\n`);
    expect(statSync(script).mode & 0o777).toBe(0o755);
    expect(statSync(lab.path('.labsync', 'logs', 'slurm')).isDirectory()).toBe(true);
    // Run by hand, not as an array task: the shell stops before labsync, naming why.
    const byHand = await execa('sh', [script], { env: lab.env, extendEnv: false, reject: false });
    expect(byHand.exitCode).toBe(2);
    expect(byHand.stderr).toMatch(/SLURM_ARRAY_TASK_ID: not a Slurm array task/);
    expect(existsSync(lab.outside('store'))).toBe(false);
    const removed = await lab.cli(['schedule', '--slurm', '--remove']);
    expect([removed.exitCode, existsSync(script)]).toEqual([0, false]);
    const none = await new Lab().manifest(manifest(LOCAL).replace(/ {4}schedule: .*\n/, '')).cli(['schedule', '--slurm']);
    expect(none.stdout).toBe('# no pair in this manifest has a schedule:');
  });
});

if (!canRun) {
  describe('a sharded pair on a real Slurm', () => {
    it.skip(`cannot run: ${missing ?? 'slurm-wlm or munge is not installed'}`, () => undefined);
  });
}
