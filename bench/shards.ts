// Per-shard throughput (issue 16 §3): one pair pushed as N = 1, 2, 4 shards, one after another,
// to a local remote (rsync) and to moto (aws). Per shard: files and bytes it moved (from --json),
// wall time, and CPU (user+sys of labsync and every tool it ran, from /usr/bin/time; for S3 also
// moto's own CPU, from /proc/PID/stat). Run: sh scripts/bench-one.sh shards
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { awsCli, makeBucket, S3_KEYS, startMoto, stopMoto, type S3Server } from '../test/harness/moto.js';
import { BIN, usage } from './measure.js';

const FILES = Number(process.env.SHARD_BENCH_FILES ?? 600);
const SIZE = Number(process.env.SHARD_BENCH_SIZE ?? 64 * 1024);

const ticks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime, in clock ticks (100/s on Linux)
};

interface Row { target: string; n: number; k: number; files: number; mb: number; s: number; cpuS: number; serverCpuS: number }

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'labsync-bench-shards-'));
  const env = isolatedEnv(join(root, 'home'), S3_KEYS);
  const lab = join(root, 'lab');
  for (let i = 0; i < FILES; i++) {
    const dir = join(lab, 'raw', `d${i % 16}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.bin`), randomBytes(SIZE));
  }
  const moto: S3Server = await startMoto(root);
  const rows: Row[] = [];
  try {
    for (const target of ['local', 's3'] as const) {
      for (const n of [1, 2, 4]) {
        const remote = target === 'local'
          ? `remote: file://${join(root, `nas-${n}`)}`
          : `remote: store:raw-${n}`;
        const bucket = target === 's3' ? await makeBucket(moto, env) : '';
        const remotes = target === 's3' ? `remotes:\n  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${moto.endpoint}" }\n` : '';
        writeFileSync(join(lab, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\n${remotes}data:\n  - name: raw\n    local: raw\n    ${remote}\n    shards: ${n}\n`);
        for (let k = 0; k < n; k++) {
          const out = join(root, 'out.json');
          const before = ticks(moto.pid);
          const u = usage(`node ${BIN} data push --shard ${k}/${n} --json > ${out}`, { cwd: lab, env, expect: [0] });
          const server = (ticks(moto.pid) - before) / 100;
          const pair = (JSON.parse(readFileSync(out, 'utf8')) as { pairs: { files: number; bytes: number }[] }).pairs[0] as { files: number; bytes: number };
          rows.push({ target, n, k, files: pair.files, mb: pair.bytes / 1e6, s: u.ms / 1000, cpuS: u.cpuMs / 1000, serverCpuS: target === 's3' ? server : 0 });
        }
        if (n === 4) {
          // The fixed part of a shard: both sides listed, the whole plan computed, nothing to move.
          const before = ticks(moto.pid);
          const u = usage(`node ${BIN} data push --shard 0/${n} --json > /dev/null`, { cwd: lab, env, expect: [0] });
          rows.push({ target, n, k: -1, files: 0, mb: 0, s: u.ms / 1000, cpuS: u.cpuMs / 1000, serverCpuS: target === 's3' ? (ticks(moto.pid) - before) / 100 : 0 });
        }
        if (target === 's3') await awsCli(moto, env, ['s3', 'rm', '--recursive', '--quiet', `s3://${bucket}/`]); // keep moto's memory flat between rows
      }
    }
  } finally {
    await stopMoto(moto);
    rmSync(root, { recursive: true, force: true });
  }
  const f = (x: number, d = 2): string => x.toFixed(d);
  process.stdout.write(`${FILES} files x ${SIZE / 1024} KiB = ${f((FILES * SIZE) / 1e6, 1)} MB; shards run one after another on one machine\n`);
  process.stdout.write('target  N  shard  files  MB     wall s  files/s  MB/s   CPU s (labsync+tools)  CPU s (moto)\n');
  for (const r of rows) {
    process.stdout.write(`${r.target.padEnd(6)}  ${r.n}  ${(r.k < 0 ? 'no-op' : `${r.k}/${r.n}`).padEnd(5)}  ${String(r.files).padStart(5)}  ${f(r.mb, 1).padStart(5)}  ${f(r.s).padStart(6)}  ${f(r.files / r.s, 0).padStart(7)}  ${f(r.mb / r.s, 1).padStart(5)}  ${f(r.cpuS).padStart(21)}  ${f(r.serverCpuS).padStart(12)}\n`);
  }
}

await main();
