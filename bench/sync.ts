// The sync rows of issue 12: labsync push/check against the raw tool on a loopback sshd and moto, same trees.
// Every labsync run has verify on (the default); the raw tools run bare, as a user's own script would.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { makeBucket, S3_KEYS, startMoto, stopMoto, type S3Server } from '../test/harness/moto.js';
import { startSshd, stopSshd, type SshHost } from '../test/harness/sshd.js';
import { add, BIN, makeTree, ROOT, RUNS, runsNote, sh, type ShOptions, fileChanger, usage } from './measure.js';

type Backend = 'ssh' | 'aws' | 'rclone';
/** no-op and one-changed goals: labsync ÷ the raw tool's own no-op, which verifies nothing. */
const STEADY_GOAL: Record<Backend, number> = { ssh: 1.0, aws: 1.1, rclone: 1.1 };
/** A run slower than this is not repeated (moto makes the big S3 rows take minutes): the row says so. */
const SLOW_MS = Number(process.env.LABSYNC_BENCH_SLOW_MS ?? 20_000);
/** A fraction of the files, for a quick look at the rows themselves (LABSYNC_BENCH_SYNC_SCALE=0.01). */
const SCALE = Number(process.env.LABSYNC_BENCH_SYNC_SCALE ?? 1);
const DAY = 24 * 3600;
/** LABSYNC_BENCH_SYNC_TREES=10k,50k and LABSYNC_BENCH_SYNC_TOOLS=ssh,aws,rclone pick rows (all by default). */
const TREES = process.env.LABSYNC_BENCH_SYNC_TREES?.split(',').map((s) => s.trim());
const TOOLS = process.env.LABSYNC_BENCH_SYNC_TOOLS?.split(',').map((s) => s.trim());
const wanted = (b: Backend): boolean => !TOOLS || TOOLS.includes(b);

/**
 * LABSYNC_BENCH_SYNC_CPU=1: each row in CPU milliseconds instead of wall time — user + sys of every
 * process of the run (a cgroup's count where the bench may make one, so a process never waited for,
 * ssh's ControlPersist master, counts too; else /usr/bin/time's) plus what the server spent meanwhile
 * (moto's own, sshd's reaped children's, from /proc/PID/stat). On a shared machine the load inflates wall time, not CPU time.
 */
const CPU = process.env.LABSYNC_BENCH_SYNC_CPU === '1';
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** utime + stime + cutime + cstime of `pid`, in ms. */
function serverCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
}

interface Timed { ms: number; runs: number }

/** The median of up to RUNS runs of `script` (or of the script for each run); a run over SLOW_MS ends the series. */
function measure(script: string | ((run: number) => string), options: ShOptions & { before?: (run: number) => void; server?: number } = {}): Timed {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    options.before?.(run);
    const text = typeof script === 'string' ? script : script(run);
    let wall: number;
    if (CPU) {
      const before = options.server ? serverCpuMs(options.server) : 0;
      const u = usage(text, { ...options, expect: [0] });
      wall = u.ms;
      times.push(u.cpuMs + (options.server ? serverCpuMs(options.server) - before : 0));
    } else {
      wall = sh(text, { ...options, expect: [0] });
      times.push(wall);
    }
    if (wall > SLOW_MS && run + 1 < RUNS) {
      process.stderr.write(`  (run ${run + 1} took over ${SLOW_MS / 1000} s: not repeated)\n`);
      break;
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)] as number, runs: times.length };
}

function row(what: string, labsync: Timed, other: string, raw: Timed, goal: number | undefined): void {
  const runs = Math.min(labsync.runs, raw.runs);
  add(`${what}${runsNote(runs)}`, labsync.ms, other, raw.ms, goal, CPU ? { unit: 'ms CPU' } : undefined);
}

const sum = (a: Timed, b: Timed): Timed => ({ ms: a.ms + b.ms, runs: Math.min(a.runs, b.runs) });

/** Where one backend's copies go, and how to point labsync and the raw tool there. */
interface Target {
  readonly backend: Backend;
  /** The labsync.yaml remotes: block and the pair's remote: (and tool:) lines, for a destination named `name`. */
  manifest(name: string): { remotes: string; pair: string };
  /** The raw tool's transfer of `src` into destination `name`, its checksum compare (if it has one), its listing. */
  raw(src: string, name: string): { push: string; pushLabel: string; compare?: string; compareLabel?: string; check: string; checkLabel: string };
  /** Forget destination `name`, so the next push into it is a first push. */
  clear(name: string): void;
  /** The server's process, whose CPU a row counts under LABSYNC_BENCH_SYNC_CPU=1. */
  readonly server: number;
}

function sshTarget(host: SshHost, remoteDir: string): Target {
  const rsh = `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;
  const at = (name: string): string => `${host.user}@127.0.0.1:${join(remoteDir, name)}/`;
  return {
    backend: 'ssh',
    manifest: (name) => ({
      remotes: `remotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${remoteDir}\n`,
      pair: `    remote: "gpu:${name}"\n`,
    }),
    raw: (src, name) => ({
      push: `rsync -a -e '${rsh}' ${src}/ ${at(name)}`, pushLabel: 'rsync -a',
      compare: `rsync -rcn -e '${rsh}' ${src}/ ${at(name)}`, compareLabel: 'rsync -a + rsync -rcn',
      check: `rsync -rn -e '${rsh}' ${src}/ ${at(name)}`, checkLabel: 'rsync -rn',
    }),
    clear: (name) => rmSync(join(remoteDir, name), { recursive: true, force: true }),
    server: host.pid,
  };
}

function s3Target(backend: 'aws' | 'rclone', server: S3Server, bucket: string): Target {
  const url = (name: string): string => `s3://${bucket}/${name}/`;
  const rclone = `rclonebench:${bucket}`;
  const list = (name: string): string => `aws --endpoint-url ${server.endpoint} s3api list-objects-v2 --bucket ${bucket} --prefix ${name}/ --output json >/dev/null`;
  return {
    backend,
    // labsync's pair "store:NAME" lands under the prefix bench/; the raw tools write beside it, under NAME/.
    manifest: (name) => ({
      remotes: `remotes:\n  store: { type: s3, bucket: ${bucket}, prefix: bench, region: us-east-1, endpoint: "${server.endpoint}" }\n`,
      pair: `    remote: "store:${name}"\n    tool: ${backend}\n`,
    }),
    raw: (src, name) => backend === 'aws'
      ? { push: `aws --endpoint-url ${server.endpoint} s3 sync --no-progress ${src}/ ${url(name)} >/dev/null`, pushLabel: 'aws s3 sync', check: list(name), checkLabel: 'aws s3api list-objects-v2' }
      : {
          push: `rclone copy ${src} ${rclone}/${name}`, pushLabel: 'rclone copy',
          compare: `rclone check -q ${src} ${rclone}/${name}`, compareLabel: 'rclone copy + rclone check',
          check: list(name), checkLabel: 'aws s3api list-objects-v2',
        },
    // A fresh prefix per first push: deleting 10k objects from moto would cost more than the push.
    clear: () => undefined,
    server: server.pid,
  };
}

/** The rows for one tree and one backend: first push, no-op, one changed file, check. */
function backendRows(target: Target, label: string, src: string, lab: string, env: Record<string, string>): void {
  const b = target.backend;
  const over = b === 'ssh' ? 'over ssh' : b === 'aws' ? 'aws → S3 (moto)' : 'rclone → S3 (moto)';
  const writeManifest = (name: string): void => {
    const { remotes, pair } = target.manifest(name);
    writeFileSync(join(lab, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\n${remotes}data:\n  - name: t\n    local: ${src}\n${pair}`);
  };
  const labsync = (args: string): string => `node ${BIN} ${args} -q`;
  const opts = { cwd: lab, env, server: target.server };

  // First push: a destination (and labsync state) that has never seen the tree, every run; the rows
  // after this one use the last run's destinations.
  let last = 0;
  const first = measure(labsync('data push'), { ...opts, before: (run) => {
    target.clear(`labsync-${run}`);
    rmSync(join(lab, '.labsync'), { recursive: true, force: true });
    writeManifest(`labsync-${run}`);
  } });
  const rawFirst = measure((run) => target.raw(src, `raw-${run}`).push, { ...opts, before: (run) => {
    last = run;
    target.clear(`raw-${run}`);
  } });
  const raw = target.raw(src, `raw-${last}`);
  row(`first push ${over}, ${label}`, first, `${raw.pushLabel}, no verify`, rawFirst, 1.3);
  if (raw.compare) row(`first push ${over}, ${label}`, first, raw.compareLabel as string, sum(rawFirst, measure(raw.compare, opts)), 1.0);

  // No-op: both destinations already hold the tree.
  row(`no-op push ${over}, ${label}`, measure(labsync('data push'), opts), raw.pushLabel, measure(raw.push, opts), STEADY_GOAL[b]);

  // One changed file: new content and a new size (aws s3 sync would miss a same-size file with an older
  // mtime than the object), its mtime past the racy window; each run changes it again for both tools.
  const changed = join(src, 'd0', 'f0.bin');
  const change = fileChanger(changed);
  const oneLabsync = measure(labsync('data push'), { ...opts, before: change });
  // The raw tool catches up on the same changes first, so each timed run sees exactly one changed file.
  sh(raw.push, { ...opts, expect: [0] });
  row(`one changed file, push ${over}, ${label}`, oneLabsync, raw.pushLabel, measure(raw.push, { ...opts, before: change }), STEADY_GOAL[b]);
  sh(labsync('data push'), { ...opts, expect: [0] });

  // check on an unchanged pair, against what the tool needs just to list both sides.
  row(`check, unchanged ${over}, ${label}`, measure(labsync('check'), opts), raw.checkLabel, measure(raw.check, opts), 1.0);
}

export async function syncRows(): Promise<void> {
  const trees = [
    { short: '10k', label: '10k × ~50 KiB', name: 'sync-10k-50KiB', count: 10_000, min: 40 * 1024, max: 60 * 1024 },
    { short: '50k', label: '50k × 1–4 KiB', name: 'sync-50k-1-4KiB', count: 50_000, min: 1024, max: 4096 },
  ].filter((t) => !TREES || TREES.includes(t.short))
    .map((t) => ({ ...t, count: Math.max(10, Math.round(t.count * SCALE)), name: SCALE === 1 ? t.name : `${t.name}-x${SCALE}` }));
  const servers = mkdtempSync(join(ROOT, 'servers-'));
  const env = { ...isolatedEnv(join(servers, 'home')), ...S3_KEYS };
  // The raw rclone reaches moto the way labsync's rclone pairs do: an env-defined remote, no config file content.
  const rcloneEnv = {
    RCLONE_CONFIG_RCLONEBENCH_TYPE: 's3', RCLONE_CONFIG_RCLONEBENCH_PROVIDER: 'Other', RCLONE_CONFIG_RCLONEBENCH_ENV_AUTH: 'true',
    RCLONE_CONFIG_RCLONEBENCH_REGION: 'us-east-1', RCLONE_CONFIG_RCLONEBENCH_FORCE_PATH_STYLE: 'true',
  };
  const host = await startSshd(join(servers, 'ssh'));
  // The servers run detached: a Ctrl-C of a long bench must still stop exactly them.
  let moto: S3Server | undefined;
  const onSignal = (): void => {
    if (moto) stopMoto(moto);
    stopSshd(host);
    rmSync(servers, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const tree of trees) {
      const dir = makeTree(tree.name, tree.count, tree.min, tree.max, { ageSeconds: DAY });
      const src = join(dir, 'src');
      const label = SCALE === 1 ? tree.label : `${tree.count} files (scaled ${tree.label})`;
      process.stderr.write(`bench: sync rows, ${label}\n`);
      const labs = join(servers, tree.name);
      const remoteDir = join(servers, tree.name, 'ssh-remote');
      mkdirSync(remoteDir, { recursive: true });
      const lab = (b: Backend): string => {
        const d = join(labs, `lab-${b}`);
        mkdirSync(d, { recursive: true });
        return d;
      };
      if (wanted('ssh')) backendRows(sshTarget(host, remoteDir), label, src, lab('ssh'), env);
      rmSync(remoteDir, { recursive: true, force: true });
      for (const b of (['aws', 'rclone'] as const).filter(wanted)) {
        // One moto per tree and tool: it keeps every object in memory, so each gets a fresh one.
        const server = await startMoto(servers);
        moto = server;
        try {
          const bucket = await makeBucket(server, env);
          const s3env = { ...env, RCLONE_CONFIG_RCLONEBENCH_ENDPOINT: server.endpoint, ...rcloneEnv };
          backendRows(s3Target(b, server, bucket), label, src, lab(b), s3env);
        } finally {
          stopMoto(server);
          moto = undefined;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopSshd(host);
    rmSync(servers, { recursive: true, force: true });
  }
}
