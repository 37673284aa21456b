// sbatch submit → all shards done on the tests' one-node Slurm (test/harness/slurm.ts): one pair of
// FILES files pushed to a local remote as N = 1, 2, 4 shards through the script `labsync schedule
// --slurm --install` writes, plus an empty array for Slurm's own overhead and one worker without Slurm.
// CPU per task is user+sys of labsync and its tools, from bash's `times` around the installed script
// (run under `sbatch --wrap`, so the script's #SBATCH lines give way to the measurement's).
// Run: sh scripts/bench-one.sh slurm
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { sbatch, startSlurm, stopSlurm, waitDone } from '../test/harness/slurm.js';
import { BIN } from './measure.js';

const FILES = Number(process.env.SLURM_BENCH_FILES ?? 20_000);
const SIZE = Number(process.env.SLURM_BENCH_SIZE ?? 8192);

/** bash `times`: the second line is the children's user and system time, as 0m1.234s. */
function cpu(timesOutput: string): { user: number; sys: number } {
  const line = timesOutput.trim().split('\n').pop() ?? '';
  const [user, sys] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { user: user ?? NaN, sys: sys ?? NaN };
}

function lab(root: string, name: string, n: number): { dir: string; env: Record<string, string> } {
  const dir = join(root, name, 'lab');
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, 'data', `d${i % 20}`);
    if (i < 20) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), Buffer.alloc(SIZE, i % 251));
  }
  writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  store: { type: local, path: ../store }\ndata:\n  - name: corpus\n    local: data\n    remote: store:corpus\n    shards: ${n}\n    schedule: "0 3 * * *"\n`);
  return { dir, env: isolatedEnv(join(root, name, 'home')) };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'labsync-bench-slurm-'));
  const cluster = await startSlurm(join(root, 'cluster'));
  const rows: string[] = [`${FILES} files × ${SIZE} B to a local remote; CPU = user + sys of labsync and its tools`, '| run | submit → done | CPU per task (user + sys) | CPU, all tasks |', '|---|---|---|---|'];
  try {
    let t = Date.now();
    const empty = await sbatch(cluster, ['--array=0-3', '--output=/dev/null', '--wrap', 'true']);
    await waitDone(cluster, empty, 300_000);
    rows.push(`| empty array of 4 | ${Date.now() - t} ms | – | – |`);
    const one = lab(root, 'direct', 1);
    t = Date.now();
    const direct = cpu(execFileSync('bash', ['-c', `"${process.execPath}" "${BIN}" sync corpus >/dev/null 2>&1; times`], { cwd: one.dir, env: one.env, encoding: 'utf8' }));
    rows.push(`| one worker, no Slurm | ${Date.now() - t} ms | ${direct.user} + ${direct.sys} s | ${(direct.user + direct.sys).toFixed(2)} s |`);
    for (const n of [1, 2, 4]) {
      const { dir, env } = lab(root, `shards-${n}`, n);
      execFileSync(process.execPath, [BIN, 'schedule', '--slurm', '--install'], { cwd: dir, env, stdio: 'ignore' });
      const script = join(dir, '.labsync', 'slurm', 'corpus.sbatch');
      const out = join(dir, '..', 'times-%a.txt');
      t = Date.now();
      const job = await sbatch(cluster, [...(n > 1 ? [`--array=0-${n - 1}`] : []), `--output=${out}`, '--wrap', `bash -c 'sh "${script}" >/dev/null 2>&1; times'`], env);
      await waitDone(cluster, job, 1_800_000);
      const ms = Date.now() - t;
      // A plain job's %a is 4294967294 (no array index).
      const tasks = [...Array(n).keys()].map((k) => cpu(readFileSync(out.replace('%a', n > 1 ? String(k) : '4294967294'), 'utf8')));
      const total = tasks.reduce((s, c) => s + c.user + c.sys, 0);
      rows.push(`| shards: ${n} | ${ms} ms | ${tasks.map((c) => `${c.user} + ${c.sys} s`).join(', ')} | ${total.toFixed(2)} s |`);
    }
  } finally {
    await stopSlurm(cluster);
    rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

await main();
