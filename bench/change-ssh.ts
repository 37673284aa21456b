// Hand measurement (not part of `npm run bench`): one changed file pushed over the loopback sshd by two
// labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js), `rsync -a`, and `rsync -a` with the same
// kept connection labsync uses by default (ControlPersist=60 in its -e), back to back, the order turned
// each round. Each contender has its own project, remote folder and XDG_CACHE_HOME (so its own kept
// connection: its runs after the first are warm, as labsync's default gives them); the source is its own
// copy of the sync bench's 10k × ~50 KiB tree (CHANGE_SRC), one file rewritten (new content and size,
// mtime 2 s back) before each round, so every contender sees exactly one changed file, as the bench's row
// does. SSH_COLD=1 adds each build cold ("a-cold", its own project: its kept connection closed before each
// run). Per run: wall ms, client CPU (a cpuacct cgroup holding the command, plus what the kept masters
// spent meanwhile) and the server's (the loopback sshd's whole process tree); see ssh-runs.ts.
// CHANGE_ROUNDS (default 5), CHANGE_DIR (default /tmp/change-bench), CHANGE_NOOP=1 adds a no-op row,
// CHANGE_OTHER=1 rewrites d0/f0.bin and d1/f500.bin in turn (the last run's racy copy is then another file).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, labsyncSockets } from './kept-ssh.js';
import { keptRshOf, measured, printMedians, printSample, rshOf, sleep, writeProject, type Sample } from './ssh-runs.js';

const root = process.env.CHANGE_DIR ?? '/tmp/change-bench';
const rounds = Number(process.env.CHANGE_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string };
const echoStderr = Boolean(process.env.CHANGE_STDERR);
const cold = process.env.SSH_COLD === '1';

const src = process.env.CHANGE_SRC ?? join(root, 'src');
mkdirSync(root, { recursive: true });
// Everything but the source copy is made afresh.
for (const d of readdirSync(root)) if (join(root, d) !== src) rmSync(join(root, d), { recursive: true, force: true });
if (!existsSync(src)) spawnSync('cp', ['-a', '/tmp/labsync-bench/sync-10k-50KiB/src', src]);
const host = await startSshd(join(root, 'sshd'));
const mux = `${root}/`;
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const runs: Record<string, { argv: string[]; cwd: string; env?: Record<string, string>; before?: () => void }> = {};
  const labsyncs = [...Object.keys(builds), ...(cold ? Object.keys(builds).map((n) => `${n}-cold`) : [])];
  for (const name of labsyncs) {
    const dir = join(root, name);
    const cache = join(root, `cache-${name}`);
    writeProject(dir, host, root, src, name, cache);
    const argv = ['node', builds[name.replace(/-cold$/, '')] as string, 'data', 'push', '-q'];
    runs[name] = { argv, cwd: dir, env: { XDG_CACHE_HOME: cache }, ...(name.endsWith('-cold') ? { before: () => closeMasters(labsyncSockets(cache)) } : {}) };
  }
  const to = (name: string): string => `${host.user}@127.0.0.1:${join(root, `remote-${name}`)}/`;
  runs.rsync = { argv: ['rsync', '-a', '-e', rshOf(host), `${src}/`, to('rsync')], cwd: root };
  runs['rsync-kept'] = { argv: ['rsync', '-a', '-e', keptRshOf(host, join(root, 'cm-rsync')), `${src}/`, to('rsync-kept')], cwd: root };
  const go = (k: string): Promise<Sample> => {
    runs[k]!.before?.();
    return measured('change-bench', runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host, { echoStderr, mux });
  };
  const all = [...labsyncs, 'rsync', 'rsync-kept'];
  for (const k of all) await go(k);
  await sleep(1200);
  for (const k of [...all, ...all]) await go(k);
  const files = process.env.CHANGE_OTHER === '1' ? [join(src, 'd0', 'f0.bin'), join(src, 'd1', 'f500.bin')] : [join(src, 'd0', 'f0.bin')];
  const sizes = files.map((f) => statSync(f).size);
  const samples: Record<string, Sample[]> = {};
  const kinds = process.env.CHANGE_NOOP === '1' ? ['noop', 'change'] : ['change'];
  for (let r = 0; r < rounds; r++) {
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const kind of kinds) {
      if (kind === 'change') {
        const file = files[r % files.length] as string;
        writeFileSync(file, randomBytes((sizes[r % files.length] as number) + ((r + 1) % 2)));
        const when = new Date(Date.now() - 2000);
        utimesSync(file, when, when);
      }
      for (const who of order) {
        const k = `${kind} ${who}`;
        const s = await go(who);
        (samples[k] ??= []).push(s);
        printSample(r + 1, k, s);
      }
    }
  }
  printMedians(samples);
} finally {
  // The kept masters are this bench's runs' own: closed by pid before their sshd stops.
  closeMasters(mux);
  await stopSshd(host);
}
