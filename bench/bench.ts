// npm run bench: labsync against the tools a user would reach for instead, on the same trees, in one run.
// Prints medians and ratios (labsync ÷ the other tool; below 1 is faster) and each goal from issue 5.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/labsync.js');
const ROOT = process.env.LABSYNC_BENCH_DIR ?? join(tmpdir(), 'labsync-bench');
const RUNS = Number(process.env.LABSYNC_BENCH_RUNS ?? 3);

function sh(script: string, cwd = ROOT): number {
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RCLONE_CONFIG: '/dev/null' } });
  if (r.status !== 0 && r.status !== 1 && r.status !== 4) throw new Error(`${script} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(script: string, runs = RUNS, before?: () => void, cwd?: string): number {
  return median(Array.from({ length: runs }, () => {
    before?.();
    return sh(script, cwd);
  }));
}

/** A tree of `count` files of `min`–`max` bytes in folders of 500, made once and reused. */
function makeTree(name: string, count: number, min: number, max: number): string {
  const dir = join(ROOT, name);
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const pool = randomBytes(max + 4096);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, 'src', `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    const size = min + ((i * 7919) % (max - min + 1));
    const off = (i * 131) % 4096;
    const body = Buffer.from(pool.subarray(off, off + size));
    body.writeUInt32LE(i, 0); // every file different
    writeFileSync(join(sub, `f${i}.bin`), body);
  }
  spawnSync('cp', ['-a', join(dir, 'src'), join(dir, 'copy')]);
  writeFileSync(join(dir, 'labsync.yaml'), 'version: 1\ndata:\n  - name: t\n    local: src\n    remote: file://COPY\n'.replace('COPY', join(dir, 'copy')));
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}

/** goal: the most labsync may take as a share of the other tool's time; undefined: shown, not judged. */
interface Row { what: string; labsync: number; other: string; otherMs: number; goal: number | undefined }
const rows: Row[] = [];
const add = (what: string, labsync: number, other: string, otherMs: number, goal: number | undefined): void => {
  rows.push({ what, labsync, other, otherMs, goal });
  process.stderr.write(`  ${what}: ${labsync.toFixed(0)} ms vs ${otherMs.toFixed(0)} ms\n`);
};

mkdirSync(ROOT, { recursive: true });
process.stderr.write(`bench: trees under ${ROOT} (made once, reused)\n`);
const t20 = makeTree('20k-50KiB', 20_000, 40 * 1024, 60 * 1024);
const t100 = makeTree('100k-1-4KiB', 100_000, 1024, 4096);
const labsync = `node ${BIN}`;

for (const [label, dir] of [['20k × ~50 KiB', t20], ['100k × 1–4 KiB', t100]] as const) {
  // The trees sit beside a labsync.yaml, so `sums` remembers hashes there: cleared before each timed
  // run, every file is read and hashed, as sha256sum does; the re-run row shows what remembering buys.
  const clearCache = (): void => rmSync(join(dir, '.labsync', 'cache'), { recursive: true, force: true });
  const sha256sum = time('find src -type f -print0 | xargs -0 sha256sum >/dev/null', RUNS, undefined, dir);
  add(`sums sha256, ${label}`, time(`${labsync} sums src >/dev/null`, RUNS, clearCache, dir), 'find \\| xargs sha256sum', sha256sum, 0.3);
  add(`sums md5, ${label}`, time(`${labsync} sums --algo md5 src >/dev/null`, RUNS, clearCache, dir), 'find \\| xargs md5sum', time('find src -type f -print0 | xargs -0 md5sum >/dev/null', RUNS, undefined, dir), 0.65);
  sh(`${labsync} sums src >/dev/null`, dir);
  add(`sums sha256 re-run (hashes remembered), ${label}`, time(`${labsync} sums src >/dev/null`, RUNS, undefined, dir), 'find \\| xargs sha256sum', sha256sum, undefined);
  add(`cold check local↔local, ${label}`, time(`${labsync} check -q`, RUNS, clearCache, dir), 'rclone check', time('rclone check -q src copy', RUNS, undefined, dir), label.startsWith('20k') ? 0.75 : 0.5);
  // Twice: the first run after a cold one sums the trees up, the next recognise them (what cron sees).
  sh(`${labsync} check -q`, dir);
  sh(`${labsync} check -q`, dir);
  add(`warm re-check, ${label}`, time(`${labsync} check -q`, RUNS, undefined, dir), 'rsync -rn', time('rsync -rn src/ copy/ >/dev/null', RUNS, undefined, dir), 2.0);
}
const nodeStart = time('node -e 0', 5);
add('labsync --version', time(`${labsync} --version >/dev/null`, 5), 'node -e 0', nodeStart, 80 / nodeStart);
add('labsync --help', time(`${labsync} --help >/dev/null`, 5), 'node -e 0', nodeStart, 80 / nodeStart);

const lines = [
  '| measurement | labsync | alternative | alternative time | ratio | goal | met |',
  '|---|---:|---|---:|---:|---:|:-:|',
  ...rows.map((r) => {
    const ratio = r.labsync / r.otherMs;
    const startup = r.what.startsWith('labsync --');
    const goal = startup ? '≤ 80 ms' : r.goal === undefined ? '—' : `≤ ${r.goal.toFixed(2)}×`;
    const met = startup ? (r.labsync <= 80 ? 'yes' : 'no') : r.goal === undefined ? '—' : ratio <= r.goal ? 'yes' : 'no';
    return `| ${r.what} | ${r.labsync.toFixed(0)} ms | ${r.other} | ${r.otherMs.toFixed(0)} ms | ${ratio.toFixed(2)}× | ${goal} | ${met} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
