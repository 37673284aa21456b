// The watch rows of issue 12: how long `labsync watch` takes to be ready on a big tree and how much memory
// it holds, against chokidar 4 (its watcher before) and @parcel/watcher alone (its watcher off Linux).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hugeTree } from './huge.js';
import { add, BIN, makeTree, median, ROOT, RUNS } from './measure.js';

interface Ready { ms: number; mb: number; cpuMs: number }

/** Peak resident memory of a live process we started, from the kernel's own high-water mark. */
function peakMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:')) ?? 'VmHWM: 0 kB';
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** CPU time (user + sys) a live process has used so far, ms: what the machine's load does not inflate. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Starts `args`, waits for `ready` on its stdout or stderr, notes the time and peak RSS, then stops it. */
function untilReady(args: readonly string[], ready: string, cwd: string): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let seen = '';
    let done = false;
    const look = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (done || !seen.includes(ready)) return;
      done = true;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const mb = peakMb(child.pid as number);
      const cpu = cpuMs(child.pid as number);
      child.kill('SIGINT');
      child.once('exit', () => resolve({ ms, mb, cpuMs: cpu }));
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${args.join(' ')} exited ${code} before it was ready: ${seen.slice(-2000)}`));
    });
  });
}

// The bare watchers, loaded from this checkout's node_modules, ready when they say so.
const CHOKIDAR = "import { watch } from 'chokidar'; const w = watch(process.argv[1], { ignoreInitial: true }); w.on('ready', () => console.log('READY'));";
const PARCEL = "import { subscribe } from '@parcel/watcher'; await subscribe(process.argv[1], () => undefined); console.log('READY');";
const bare = (code: string, dir: string): Promise<Ready> => untilReady(['--input-type=module', '-e', code, dir], 'READY', process.cwd());

/** The median time and the median peak of RUNS starts (each from a fresh process). */
async function medianOf(start: () => Promise<Ready>): Promise<Ready> {
  const runs: Ready[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await start());
  return { ms: median(runs.map((r) => r.ms)), mb: median(runs.map((r) => r.mb)), cpuMs: median(runs.map((r) => r.cpuMs)) };
}

/** `labsync watch` on one push pair whose folder is `src`, ready when it prints that it is watching. */
function labsyncWatch(name: string, src: string): Promise<Ready> {
  const lab = join(ROOT, 'watch-labs', name);
  mkdirSync(lab, { recursive: true });
  writeFileSync(join(lab, 'labsync.yaml'), `version: 1\ndata:\n  - name: t\n    local: ${src}\n    remote: file://${join(lab, 'never-written')}\n`);
  return untilReady([BIN, 'watch', '-q'], 'watching t', lab);
}

const ALTERNATIVES = { chokidar: ['chokidar 4 alone (the old watcher)', CHOKIDAR], parcel: ['@parcel/watcher alone', PARCEL] } as const;

async function rowsFor(label: string, name: string, src: string, alternatives: readonly (keyof typeof ALTERNATIVES)[], limits?: { ms: number; mb: number }): Promise<void> {
  const ours = await medianOf(() => labsyncWatch(name, src));
  for (const alternative of alternatives) {
    const [otherName, code] = ALTERNATIVES[alternative];
    const other = await medianOf(() => bare(code, src));
    add(`watch ready, ${label}`, ours.ms, otherName, other.ms, undefined, limits ? { limit: limits.ms } : undefined);
    add(`watch CPU user+sys until ready, ${label}`, ours.cpuMs, otherName, other.cpuMs, undefined);
    add(`watch peak RSS, ${label}`, ours.mb, otherName, other.mb, undefined, { unit: 'MB', ...(limits ? { limit: limits.mb } : {}) });
  }
}

export async function watchRows(): Promise<void> {
  // The sync rows' trees: made there if they ran, here if not.
  const t10 = makeTree('sync-10k-50KiB', 10_000, 40 * 1024, 60 * 1024, { ageSeconds: 24 * 3600 });
  const t50 = makeTree('sync-50k-1-4KiB', 50_000, 1024, 4096, { ageSeconds: 24 * 3600 });
  await rowsFor('10k × ~50 KiB', 'sync-10k', join(t10, 'src'), ['chokidar']);
  await rowsFor('50k × 1–4 KiB', 'sync-50k', join(t50, 'src'), ['chokidar', 'parcel']);
  if (process.env.LABSYNC_BENCH_HUGE === '1') {
    // A million small files (about 4 GB on disk): made once, minutes. chokidar is not run on it.
    process.stderr.write('bench: the 1M-file tree (LABSYNC_BENCH_HUGE=1)\n');
    const huge = hugeTree();
    await rowsFor('1M × 1–4 KiB', 'huge-1M', join(huge, 'src'), ['parcel'], { ms: 5000, mb: 200 });
  }
}
