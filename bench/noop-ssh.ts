// Hand measurement (not part of `npm run bench`): a no-op push and an unchanged `check` over the loopback
// sshd, two labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js) and the raw rsync back to back,
// round after round, the order turned each round. Each build has its own project and remote folder; the
// source is the sync bench's 10k × ~50 KiB tree. Per run: wall ms (start to the command's exit), client CPU
// (user+sys of a cpuacct cgroup holding the command, so an ssh that outlives it is counted too), and the
// server's (the loopback sshd's reaped children, /proc/PID/stat cutime+cstime, after its children are gone).
// NOOP_ROUNDS (default 5), NOOP_DIR (default /tmp/noop-bench), NOOP_CHECK=0 leaves out the check rows.
// LABSYNC_C: a third build (or the same one), LABSYNC_C_ENV its extra environment (NAME=VALUE,...), e.g.
// LABSYNC_C=$LABSYNC_B LABSYNC_C_ENV=LABSYNC_EARLY_SSH=0 to see what starting the login early is worth.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { makeTree } from './measure.js';
import { measured, printMedians, printSample, rshOf, sleep, type Sample } from './ssh-runs.js';

const root = process.env.NOOP_DIR ?? '/tmp/noop-bench';
const rounds = Number(process.env.NOOP_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string, ...(process.env.LABSYNC_C ? { c: process.env.LABSYNC_C } : {}) };
const extraEnv: Record<string, Record<string, string>> = { c: Object.fromEntries((process.env.LABSYNC_C_ENV ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };

// NOOP_SRC: a tree of its own (the sync bench changes d0/f0.bin of the shared one while it runs).
const src = process.env.NOOP_SRC ?? join(makeTree('sync-10k-50KiB', 10_000, 40 * 1024, 60 * 1024, { ageSeconds: 24 * 3600 }), 'src');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const host = await startSshd(join(root, 'sshd'));
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const rsh = rshOf(host);
  const rawDest = `${host.user}@127.0.0.1:${join(root, 'remote-raw')}/`;
  const runs: Record<string, { argv: string[]; cwd: string; env?: Record<string, string> }> = {};
  const names = Object.keys(builds);
  for (const name of names) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${root}\ndata:\n  - name: t\n    local: ${src}\n    remote: gpu:remote-${name}\n`);
    runs[`push ${name}`] = { argv: ['node', builds[name] as string, 'data', 'push', '-q'], cwd: dir, ...(extraEnv[name] ? { env: extraEnv[name] } : {}) };
    runs[`check ${name}`] = { argv: ['node', builds[name] as string, 'check', '-q'], cwd: dir, ...(extraEnv[name] ? { env: extraEnv[name] } : {}) };
  }
  runs['push rsync'] = { argv: ['rsync', '-a', '-e', rsh, `${src}/`, rawDest], cwd: root };
  runs['check rsync'] = { argv: ['rsync', '-rn', '-e', rsh, `${src}/`, rawDest], cwd: root };
  // First pushes, then a run past the racy second that proves and remembers, then one no-op each to warm the code caches.
  for (const k of [...names.map((n) => `push ${n}`), 'push rsync']) await measured('noop-bench', runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
  await sleep(1200);
  for (const k of [...names.map((n) => `push ${n}`), ...names.map((n) => `push ${n}`), ...names.map((n) => `check ${n}`), 'push rsync']) await measured('noop-bench', runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
  const samples: Record<string, Sample[]> = {};
  const kinds = process.env.NOOP_CHECK === '0' ? ['push'] : ['push', 'check'];
  for (let r = 0; r < rounds; r++) {
    const all = [...names, 'rsync'];
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const kind of kinds) {
      for (const who of order) {
        const k = `${kind} ${who}`;
        const s = await measured('noop-bench', runs[k]!.argv, runs[k]!.cwd, { ...env, ...runs[k]!.env }, host);
        (samples[k] ??= []).push(s);
        printSample(r + 1, k, s);
      }
    }
  }
  printMedians(samples);
} finally {
  stopSshd(host);
}
