// The listing figures of the README's "Scale on paper" (issue 16), measured by hand, not in CI:
//   sh scripts/bench-one.sh scale-listing TREE   (TREE: a folder holding src/, e.g. the 1M-file bench tree)
// 1. S3: labsync's own ListObjectsV2 listing (exec/s3-list.ts) of a versitygw bucket of SCALE_S3_KEYS
//    objects: client CPU (this process) and server CPU (versitygw's /proc stat) per 1000-key page, and
//    the parse alone of recorded real pages. 2. GNU find -printf over TREE/src, here and through a loopback
//    sshd, and labsync's parse of that listing (verify/find-list.ts). CPU is counted, not wall (shared host).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListPage } from '../src/adapters/aws/parse-xml.js';
import { listS3, pageUrl } from '../src/exec/s3-list.js';
import type { S3Target } from '../src/exec/s3-direct.js';
import { signGet } from '../src/exec/sigv4.js';
import { findArgv, parseFindListing } from '../src/verify/find-list.js';
import { S3_KEYS } from '../test/harness/moto.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { findVersitygw, startVersitygw, stopVersitygw } from '../test/harness/versitygw.js';

const WORK = join(process.env.LABSYNC_BENCH_DIR ?? join(tmpdir(), 'labsync-bench'), 'scale-listing');
const KEYS = Number(process.env.SCALE_S3_KEYS ?? 100_000);
const RUNS = 3;

/** utime + stime of a live process, ms (field 14/15 of /proc/PID/stat, 100 ticks a second). */
function cpuOf(pid: number, children = false): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const at = children ? 13 : 11;
  return (Number(f[at]) + Number(f[at + 1])) * 10;
}
const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** `argv` under /usr/bin/time: user+sys ms, peak RSS MB, and stdout's size. */
function timed(argv: string[], cwd: string, out: string): { cpuMs: number; mb: number; bytes: number } {
  const t = join(WORK, 'time.txt');
  const r = spawnSync('sh', ['-c', `/usr/bin/time -f '%U %S %M' -o ${t} "$@" > ${out}`, 'sh', ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const [u, s, kb] = (readFileSync(t, 'utf8').trim().split('\n').pop() as string).split(' ').map(Number) as [number, number, number];
  return { cpuMs: (u + s) * 1000, mb: kb / 1024, bytes: readFileSync(out).length };
}

async function s3Rows(): Promise<void> {
  const found = findVersitygw();
  if ('missing' in found) return say(`S3: skipped, ${found.missing}`);
  const root = join(WORK, 'vgw');
  // The objects are written into the bucket's folder behind the gateway (a PUT per object would take
  // far longer to fill); it then lists them with the default ETag it gives objects it holds none for.
  const bucket = join(root, 'scale');
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < KEYS; i++) {
    if (i % 1000 === 0) mkdirSync(join(bucket, 'data', `d${i / 1000}`), { recursive: true });
    writeFileSync(join(bucket, 'data', `d${Math.floor(i / 1000)}`, `f${i}.bin`), 'x');
  }
  const server = await startVersitygw(found.bin, WORK, { root, defaultEtag: 'd41d8cd98f00b204e9800998ecf8427e' });
  try {
    const target: S3Target = {
      base: new URL(server.endpoint), pathStyle: true, bucket: 'scale', prefix: 'data', region: S3_KEYS.AWS_DEFAULT_REGION,
      creds: { accessKeyId: S3_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: S3_KEYS.AWS_SECRET_ACCESS_KEY },
    };
    const runs: { ms: number; client: number; server: number; pages: number; n: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const pages = { n: 0 };
      const [c0, s0, t0] = [ownCpu(), cpuOf(server.pid), process.hrtime.bigint()];
      const entries = await listS3(target, { signal: new AbortController().signal, requestTimeoutMs: 120_000 }, pages);
      runs.push({ ms: Number(process.hrtime.bigint() - t0) / 1e6, client: ownCpu() - c0, server: cpuOf(server.pid) - s0, pages: pages.n, n: entries.length });
    }
    const m = { ms: median(runs.map((r) => r.ms)), client: median(runs.map((r) => r.client)), server: median(runs.map((r) => r.server)) };
    const { pages, n } = runs[0] as { pages: number; n: number };
    say(`S3 versitygw ${n} keys, ${pages} pages (median of ${RUNS}, load ${load()}): ${m.ms.toFixed(0)} ms wall; ` +
      `client CPU ${m.client.toFixed(0)} ms = ${(m.client / pages).toFixed(2)} ms/page; server CPU ${m.server.toFixed(0)} ms = ${(m.server / pages).toFixed(2)} ms/page`);

    // Real pages, kept; the parse alone timed over them.
    const dir = join(WORK, 'pages');
    mkdirSync(dir, { recursive: true });
    const res = await fetch(pageUrl(target), { headers: signGet(pageUrl(target), target.region, target.creds, new Date()) });
    const xml = await res.text();
    writeFileSync(join(dir, 'versitygw-page1.xml'), xml);
    const reps = 300;
    const c0 = ownCpu();
    let keys = 0;
    for (let i = 0; i < reps; i++) keys += parseListPage(xml, 'data').entries.length;
    const per = (ownCpu() - c0) / reps;
    say(`S3 page parse alone: ${xml.length} bytes, ${keys / reps} keys, ${per.toFixed(2)} ms CPU per page (${reps} parses) = ${(per * 1000 / 1000).toFixed(1)} s per million keys`);
  } finally {
    await stopVersitygw(server);
  }
}

async function findRows(tree: string): Promise<void> {
  const src = join(tree, 'src');
  const argv = findArgv([], { links: true });
  const out = join(WORK, 'find.out');
  const local = median(Array.from({ length: RUNS }, () => timed(argv, src, out).cpuMs));
  const listing = readFileSync(out);
  const files = parseFindListing(listing, []).paths.length;
  say(`find -printf here, ${files} files, ${(listing.length / 1e6).toFixed(0)} MB of listing (load ${load()}): ${local.toFixed(0)} ms CPU`);

  // The parse in a process of its own, so its peak RSS is the parse's (the listing read, the paths and keys).
  const parse = median(Array.from({ length: RUNS }, () => timed([process.execPath, process.argv[1] as string, '--parse', out], WORK, join(WORK, 'parse.out'))).map((r) => r.cpuMs));
  const peak = timed([process.execPath, process.argv[1] as string, '--parse', out], WORK, join(WORK, 'parse.out')).mb;
  say(`labsync's parse of it (parseFindListing, in its own node process): ${parse.toFixed(0)} ms CPU with node's start, peak RSS ${peak.toFixed(0)} MB`);

  rmSync(join(WORK, 'sshd'), { recursive: true, force: true });
  const host = await startSshd(join(WORK, 'sshd'));
  try {
    const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const ssh = ['ssh', '-F', host.sshConfig, '-i', host.identity, '-o', `UserKnownHostsFile=${host.knownHosts}`, '-o', 'BatchMode=yes',
      '-p', String(host.port), `${host.user}@127.0.0.1`, `cd '${src}' && ${quoted}`];
    const runs: { client: number; host: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const h0 = cpuOf(host.pid, true);
      const client = timed(ssh, src, out).cpuMs;
      runs.push({ client, host: cpuOf(host.pid, true) - h0 });
    }
    say(`find -printf over loopback ssh: client (ssh) ${median(runs.map((r) => r.client)).toFixed(0)} ms CPU, host (sshd + find) ${median(runs.map((r) => r.host)).toFixed(0)} ms CPU; ${(readFileSync(out).length / 1e6).toFixed(0)} MB`);
  } finally {
    await stopSshd(host);
  }
}

mkdirSync(WORK, { recursive: true });
if (process.argv[2] === '--parse') {
  const c0 = ownCpu();
  const { paths } = parseFindListing(readFileSync(process.argv[3] as string), []);
  say(`${paths.length} files parsed in ${(ownCpu() - c0).toFixed(0)} ms CPU`);
  process.exit(0);
}
const tree = process.argv[2];
if (process.env.SCALE_ONLY !== 'find') await s3Rows();
if (tree && process.env.SCALE_ONLY !== 's3') await findRows(tree);
