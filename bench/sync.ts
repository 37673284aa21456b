// The sync rows of issue 12: labsync push/check against the raw tool on a loopback sshd and moto, same trees.
// Every labsync run has verify on (the default); the raw tools run bare, as a user's own script would.
//
// Over ssh labsync keeps its connection between runs by default (an OpenSSH master, ControlPersist=60),
// so the rows say which state they measure. A first push starts cold (any kept master closed first: it
// is the first contact). No-op, one changed file and check are measured warm, over the connection the
// run before kept, as the default gives them, and judged against plain `rsync -a` / `rsync -rn` (the
// issue's goal); the same runs cold (the master closed before each run) and a warm rsync with the same
// three Control options in its -e (what a user who sets ControlPersist for rsync gets) are shown beside,
// not judged. Nothing waits for a kept master to end, nor stops one in the middle of a series.
//
// LABSYNC_BENCH_SYNC_CPU=1: each row in CPU milliseconds instead of wall time (the machine's load
// inflates wall time, not CPU time), user + sys of
// - every process of the run: a cgroup's count where the bench may make one, so a kept ssh master the
//   run itself forked counts for its work up to the run's end (it then leaves the run's group); else
//   /usr/bin/time's, plus all the CPU of a master the run left behind;
// - what earlier runs left running (the kept ssh masters under the bench's folder, anything else a run
//   left in its cgroup): its utime+stime+cutime+cstime delta across the run;
// - the server meanwhile, its whole process tree's utime+stime+cutime+cstime delta: moto's own; the
//   loopback sshd's listener, its long-lived per-connection processes (a kept connection's) and every
//   session they reaped, read once the run's sessions there are over (never waiting for a kept connection).
// LABSYNC_BENCH_SYNC_CPU_PARTS=1 prints the three parts of each run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { makeBucket, S3_KEYS, startMoto, stopMoto, type S3Server } from '../test/harness/moto.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, costEnd, costStart } from './kept-ssh.js';
import { add, BIN, makeTree, ROOT, RUNS, runsNote, settleDisk, sh, type ShOptions, fileChanger, trash, usage } from './measure.js';
import { s3Target, sshTarget, type Backend, type Target } from './sync-targets.js';

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

/** CPU mode: what a row counts is said at the top of this file. */
const CPU = process.env.LABSYNC_BENCH_SYNC_CPU === '1';
const PARTS = CPU && process.env.LABSYNC_BENCH_SYNC_CPU_PARTS === '1';

interface Timed { ms: number; runs: number }

interface MeasureOptions extends ShOptions {
  before?: (run: number) => void;
  /** The server's pid, whose tree's CPU a run counts in CPU mode. */
  server?: number;
  /** Where the bench's kept ssh masters have their sockets, whose CPU a run counts in CPU mode. */
  mux?: string;
}

/** The median of up to RUNS runs of `script` (or of the script for each run); a run over SLOW_MS ends the series. */
function measure(script: string | ((run: number) => string), options: MeasureOptions = {}): Timed {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    options.before?.(run);
    const { wall, counted } = sample(typeof script === 'string' ? script : script(run), options, run);
    times.push(counted);
    if (wall > SLOW_MS && run + 1 < RUNS) {
      process.stderr.write(`  (run ${run + 1} took over ${SLOW_MS / 1000} s: not repeated)\n`);
      break;
    }
  }
  return timed(times);
}

const timed = (times: readonly number[]): Timed => ({ ms: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number, runs: times.length });

/** One run of `text`: its wall ms, and what the row counts (wall, or CPU in CPU mode). */
function sample(text: string, options: MeasureOptions, run: number, label = ''): { wall: number; counted: number } {
  if (!CPU) {
    const wall = sh(text, { ...options, expect: [0] });
    return { wall, counted: wall };
  }
  const start = options.server ? costStart(options.server, options.mux) : undefined;
  const u = usage(text, { ...options, expect: [0] });
  const kept = start && options.server ? costEnd(start, options.server, options.mux, u.inCgroup) : { masters: 0, host: 0 };
  if (PARTS) process.stderr.write(`    run ${run + 1}${label ? ` (${label})` : ''}: ${u.cpuMs.toFixed(0)} ms the run's processes + ${kept.masters.toFixed(0)} ms kept masters + ${kept.host.toFixed(0)} ms server\n`);
  return { wall: u.ms, counted: u.cpuMs + kept.masters + kept.host };
}

/** A run to time: its name, what it runs in round `run`, what readies the machine for it and what is read right after it (untimed). */
interface Step { readonly name: string; readonly script: (run: number) => string; readonly before: (run: number) => void; readonly after?: () => void }

/**
 * Up to RUNS rounds of every contender, one after the other in each round, the order turned every
 * round: each median then comes from the same stretch of the machine's state (a disk still writing
 * back or discarding an earlier tree's blocks slows whichever runs meanwhile; measured in blocks, one
 * tool's runs met it and the other's did not). A contender is one step or several that belong together
 * (a raw push, then its compare over that push's copy), each run's times kept per round. A round with a
 * run over SLOW_MS (any contender's) is the last.
 */
function interleaved(contenders: readonly (readonly Step[])[], options: MeasureOptions): number[][][] {
  const times: number[][][] = contenders.map((steps) => steps.map(() => []));
  for (let run = 0; run < RUNS; run++) {
    let slow = false;
    const order = contenders.map((_, i) => i);
    if (run % 2) order.reverse();
    for (const i of order) {
      (contenders[i] as readonly Step[]).forEach((step, k) => {
        step.before(run);
        const { wall, counted } = sample(step.script(run), options, run, step.name);
        step.after?.();
        (times[i]?.[k] as number[]).push(counted);
        slow ||= wall > SLOW_MS;
      });
    }
    if (slow && run + 1 < RUNS) {
      process.stderr.write(`  (round ${run + 1} had a run over ${SLOW_MS / 1000} s: not repeated)\n`);
      break;
    }
  }
  return times;
}

function row(what: string, labsync: Timed, other: string, raw: Timed, goal: number | undefined): void {
  const runs = Math.min(labsync.runs, raw.runs);
  add(`${what}${runsNote(runs)}`, labsync.ms, other, raw.ms, goal, CPU ? { unit: 'ms CPU' } : undefined);
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
  const kept = target.kept;
  const opts: MeasureOptions = { cwd: lab, env, server: target.server, ...(kept ? { mux: kept.prefix } : {}) };
  const untimed = (script: string): void => void sh(script, { ...opts, expect: [0] });

  // First push: a destination (and labsync state) that has never seen the tree, every run, and no
  // connection kept from an earlier run (a first push is the first contact); the rows after this one
  // use the last run's destinations. labsync, the raw push and the raw compare over that push's copy run
  // in rounds (interleaved). Each run starts with the disk settled (the copies before it removed and every
  // dirty page written: settleDisk), so none pays for an earlier run's writes; the last copies stay for
  // the steady rows.
  let last = 0;
  // Whether this build keeps its connection (labsync's default; a build before it does not), read right
  // after its last first push (a round's raw runs after it could outlast control_persist): the rows say.
  let keeps = false;
  const ours: Step = { name: 'labsync', script: () => labsync('data push'), before: (run) => {
    kept?.closeLabsync();
    if (run > 0) target.clear(`labsync-${run - 1}`);
    target.clear(`labsync-${run}`);
    rmSync(join(lab, '.labsync'), { recursive: true, force: true });
    writeManifest(`labsync-${run}`);
    settleDisk();
  }, after: () => void (keeps = kept?.labsyncKept() === true) };
  const theirs: Step[] = [{ name: 'raw push', script: (run) => target.raw(src, `raw-${run}`).push, before: (run) => {
    last = run;
    if (run > 0) target.clear(`raw-${run - 1}`);
    target.clear(`raw-${run}`);
    settleDisk();
  } }];
  // The raw compare reads its round's raw copy: right after that push, whichever order the round has.
  if (target.raw(src, 'raw-0').compare) theirs.push({ name: 'raw compare', script: (run) => target.raw(src, `raw-${run}`).compare as string, before: settleDisk });
  const [[ourTimes], [pushTimes, compareTimes]] = interleaved([[ours], theirs], opts) as [[number[]], [number[], number[] | undefined]];
  const first = timed(ourTimes);
  const rawFirst = timed(pushTimes);
  if (kept && !keeps) process.stderr.write('  (labsync kept no ssh connection after its first push: no cold rows, the steady rows say so)\n');
  const state = !kept ? '' : keeps ? ' (connection kept from the last run)' : ' (labsync kept no connection)';
  const raw = target.raw(src, `raw-${last}`);
  const rawKept = kept?.raw(src, `raw-${last}`);
  row(`first push ${over}, ${label}`, first, `${raw.pushLabel}, no verify`, rawFirst, 1.3);
  // Each round's push and its compare together, the median of those sums.
  if (raw.compare && compareTimes) row(`first push ${over}, ${label}`, first, raw.compareLabel as string, timed(pushTimes.map((t, i) => t + (compareTimes[i] as number))), 1.0);

  /**
   * A steady row: labsync's `ours` against the raw tool's `theirs` (`theirsKept`: over a kept connection),
   * `change` before each run. Over ssh labsync runs warm, on the connection the run before kept (logging
   * in again only if its window ran out), and is judged; then the same runs cold, and the raw tool warm.
   */
  const steady = (what: string, ours: string, theirs: string, theirsLabel: string, theirsKept: string | undefined, goal: number, change?: () => void): void => {
    const warm = measure(ours, { ...opts, before: () => {
      if (keeps && !kept?.labsyncKept()) untimed(labsync('data push'));
      change?.();
    } });
    const cold = kept && keeps ? measure(ours, { ...opts, before: () => {
      kept.closeLabsync();
      change?.();
    } }) : undefined;
    // The raw tool catches up on labsync's changes first, so each timed run sees exactly one changed file.
    if (change) untimed(raw.push);
    const bare = measure(theirs, { ...opts, before: change });
    const rawWarm = kept && theirsKept ? measure(theirsKept, { ...opts, before: () => {
      if (!kept.rawKept()) untimed(rawKept?.push as string);
      change?.();
    } }) : undefined;
    if (change) untimed(labsync('data push'));
    row(`${what}${state}, ${label}`, warm, theirsLabel, bare, goal);
    if (rawWarm) row(`${what}${state}, ${label}`, warm, `${theirsLabel}, its connection kept (ControlPersist=60 in -e)`, rawWarm, undefined);
    if (cold) row(`${what} (cold: no kept connection), ${label}`, cold, theirsLabel, bare, undefined);
  };

  // No-op: both destinations already hold the tree.
  steady(`no-op push ${over}`, labsync('data push'), raw.push, raw.pushLabel, rawKept?.push, STEADY_GOAL[b]);
  // One changed file: new content and a new size (aws s3 sync would miss a same-size file with an older
  // mtime than the object), its mtime past the racy window; each run changes it again for every contender.
  steady(`one changed file, push ${over}`, labsync('data push'), raw.push, raw.pushLabel, rawKept?.push, STEADY_GOAL[b], fileChanger(join(src, 'd0', 'f0.bin')));
  // check on an unchanged pair, against what the tool needs just to list both sides.
  steady(`check, unchanged ${over}`, labsync('check'), raw.check, raw.checkLabel, rawKept?.check, 1.0);
}

export async function syncRows(): Promise<void> {
  const trees = [
    { short: '10k', label: '10k × ~50 KiB', name: 'sync-10k-50KiB', count: 10_000, min: 40 * 1024, max: 60 * 1024 },
    { short: '50k', label: '50k × 1–4 KiB', name: 'sync-50k-1-4KiB', count: 50_000, min: 1024, max: 4096 },
  ].filter((t) => !TREES || TREES.includes(t.short))
    .map((t) => ({ ...t, count: Math.max(10, Math.round(t.count * SCALE)), name: SCALE === 1 ? t.name : `${t.name}-x${SCALE}` }));
  const servers = mkdtempSync(join(ROOT, 'servers-'));
  // XDG_CACHE_HOME: where labsync keeps its ssh sockets, said rather than inherited.
  const cache = join(servers, 'home', '.cache');
  const env = { ...isolatedEnv(join(servers, 'home')), ...S3_KEYS, XDG_CACHE_HOME: cache };
  // The raw rclone reaches moto the way labsync's rclone pairs do: an env-defined remote, no config file content.
  const rcloneEnv = {
    RCLONE_CONFIG_RCLONEBENCH_TYPE: 's3', RCLONE_CONFIG_RCLONEBENCH_PROVIDER: 'Other', RCLONE_CONFIG_RCLONEBENCH_ENV_AUTH: 'true',
    RCLONE_CONFIG_RCLONEBENCH_REGION: 'us-east-1', RCLONE_CONFIG_RCLONEBENCH_FORCE_PATH_STYLE: 'true',
  };
  const host = await startSshd(join(servers, 'ssh'));
  // The servers run detached: a Ctrl-C of a long bench must still stop exactly them.
  let moto: S3Server | undefined;
  // The kept ssh masters are the bench's runs' own: closed by pid before the sshd they talk to stops.
  const stopSsh = (): Promise<void> => {
    closeMasters(`${servers}/`);
    return stopSshd(host);
  };
  // A Ctrl-C exits at once: the servers are signalled, not waited for.
  const onSignal = (): void => {
    if (moto) void stopMoto(moto);
    void stopSsh();
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
      if (wanted('ssh')) backendRows(sshTarget(host, remoteDir, servers, cache), label, src, lab('ssh'), env);
      closeMasters(`${servers}/`);
      trash(remoteDir, join(servers, 'trash'));
      for (const b of (['aws', 'rclone'] as const).filter(wanted)) {
        // One moto per tree and tool: it keeps every object in memory, so each gets a fresh one.
        const server = await startMoto(servers);
        moto = server;
        try {
          const bucket = await makeBucket(server, env);
          const s3env = { ...env, RCLONE_CONFIG_RCLONEBENCH_ENDPOINT: server.endpoint, ...rcloneEnv };
          backendRows(s3Target(b, server, bucket), label, src, lab(b), s3env);
        } finally {
          await stopMoto(server);
          moto = undefined;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopSsh();
    rmSync(servers, { recursive: true, force: true });
  }
}
