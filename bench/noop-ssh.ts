// Hand measurement (not part of `npm run bench`): a no-op push and an unchanged `check` over the loopback
// sshd, two labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js), the raw rsync, and rsync with
// the same kept connection labsync uses by default (ControlPersist=60 in its -e), back to back, round after
// round, the order turned each round. Each build has its own project, remote folder and XDG_CACHE_HOME (so
// its own kept connection: its runs after the first are warm, as labsync's default gives them); the source
// is the sync bench's 10k × ~50 KiB tree. SSH_COLD=1 adds each build cold ("a-cold": its kept connection
// closed before each run). Per run: wall ms (start to the command's exit), client CPU (user+sys of a
// cpuacct cgroup holding the command, plus what the kept masters spent meanwhile) and the server's (the
// loopback sshd's whole process tree, kept connections' processes included); see ssh-runs.ts.
// NOOP_ROUNDS (default 5), NOOP_DIR (default /tmp/noop-bench), NOOP_CHECK=0 leaves out the check rows.
// LABSYNC_C: a third build (or the same one), LABSYNC_C_ENV its extra environment (NAME=VALUE,...), e.g.
// LABSYNC_C=$LABSYNC_B LABSYNC_C_ENV=LABSYNC_EARLY_SSH=0 to see what starting the login early is worth.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, labsyncSockets } from './kept-ssh.js';
import { makeTree } from './measure.js';
import { keptRshOf, measured, printMedians, printSample, rshOf, sleep, writeProject, type Sample } from './ssh-runs.js';

const root = process.env.NOOP_DIR ?? '/tmp/noop-bench';
const rounds = Number(process.env.NOOP_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string, ...(process.env.LABSYNC_C ? { c: process.env.LABSYNC_C } : {}) };
const extraEnv: Record<string, Record<string, string>> = { c: Object.fromEntries((process.env.LABSYNC_C_ENV ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
const cold = process.env.SSH_COLD === '1';

// NOOP_SRC: a tree of its own (the sync bench changes d0/f0.bin of the shared one while it runs).
const src = process.env.NOOP_SRC ?? join(makeTree('sync-10k-50KiB', 10_000, 40 * 1024, 60 * 1024, { ageSeconds: 24 * 3600 }), 'src');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const host = await startSshd(join(root, 'sshd'));
const mux = `${root}/`;
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const rawDest = `${host.user}@127.0.0.1:${join(root, 'remote-raw')}/`;
  const keptRsh = keptRshOf(host, join(root, 'cm-rsync'));
  const runs: Record<string, { argv: string[]; cwd: string; env?: Record<string, string>; before?: () => void }> = {};
  const names = Object.keys(builds);
  for (const name of names) {
    const dir = join(root, name);
    const cache = join(root, `cache-${name}`);
    writeProject(dir, host, root, src, name, cache);
    const runEnv = { ...extraEnv[name], XDG_CACHE_HOME: cache };
    for (const kind of ['push', 'check']) {
      const argv = ['node', builds[name] as string, ...(kind === 'push' ? ['data', 'push'] : ['check']), '-q'];
      runs[`${kind} ${name}`] = { argv, cwd: dir, env: runEnv };
      if (cold) runs[`${kind} ${name}-cold`] = { argv, cwd: dir, env: runEnv, before: () => closeMasters(labsyncSockets(cache)) };
    }
  }
  runs['push rsync'] = { argv: ['rsync', '-a', '-e', rshOf(host), `${src}/`, rawDest], cwd: root };
  runs['check rsync'] = { argv: ['rsync', '-rn', '-e', rshOf(host), `${src}/`, rawDest], cwd: root };
  runs['push rsync-kept'] = { argv: ['rsync', '-a', '-e', keptRsh, `${src}/`, rawDest], cwd: root };
  runs['check rsync-kept'] = { argv: ['rsync', '-rn', '-e', keptRsh, `${src}/`, rawDest], cwd: root };
  const go = (k: string): Promise<Sample> => {
    runs[k]!.before?.();
    return measured('noop-bench', runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host, { mux });
  };
  // First pushes, then a run past the racy second that proves and remembers, then one no-op each to warm the code caches.
  for (const k of [...names.map((n) => `push ${n}`), 'push rsync', 'push rsync-kept']) await go(k);
  await sleep(1200);
  for (const k of [...names.map((n) => `push ${n}`), ...names.map((n) => `push ${n}`), ...names.map((n) => `check ${n}`), 'push rsync']) await go(k);
  const samples: Record<string, Sample[]> = {};
  const kinds = process.env.NOOP_CHECK === '0' ? ['push'] : ['push', 'check'];
  const all = [...names, ...(cold ? names.map((n) => `${n}-cold`) : []), 'rsync', 'rsync-kept'];
  for (let r = 0; r < rounds; r++) {
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const kind of kinds) {
      for (const who of order) {
        const k = `${kind} ${who}`;
        const s = await go(k);
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
