// Hand measurement (not part of `npm run bench`): one changed file pushed over the loopback sshd by two
// labsync builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js) and `rsync -a`, back to back, the order
// turned each round. Each contender has its own project and remote folder; the source is its own copy of
// the sync bench's 10k × ~50 KiB tree (CHANGE_SRC), one file rewritten (new content and size, mtime 2 s
// back) before each round, so every contender sees exactly one changed file, as the bench's row does.
// Per run: wall ms, client CPU (a cpuacct cgroup holding the command: every process it started) and the
// server's (the loopback sshd's reaped children, /proc/PID/stat cutime+cstime, once they are gone).
// CHANGE_ROUNDS (default 5), CHANGE_DIR (default /tmp/change-bench), CHANGE_NOOP=1 adds a no-op row,
// CHANGE_OTHER=1 rewrites d0/f0.bin and d1/f500.bin in turn (the last run's racy copy is then another file).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { measured, printMedians, printSample, rshOf, sleep, type Sample } from './ssh-runs.js';

const root = process.env.CHANGE_DIR ?? '/tmp/change-bench';
const rounds = Number(process.env.CHANGE_ROUNDS ?? 5);
const builds: Record<string, string> = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string };
const echo = Boolean(process.env.CHANGE_STDERR);

const src = process.env.CHANGE_SRC ?? join(root, 'src');
mkdirSync(root, { recursive: true });
// Everything but the source copy is made afresh.
for (const d of readdirSync(root)) if (join(root, d) !== src) rmSync(join(root, d), { recursive: true, force: true });
if (!existsSync(src)) spawnSync('cp', ['-a', '/tmp/labsync-bench/sync-10k-50KiB/src', src]);
const host = await startSshd(join(root, 'sshd'));
try {
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '' };
  const rsh = rshOf(host);
  const runs: Record<string, { argv: string[]; cwd: string }> = {};
  const names = Object.keys(builds);
  for (const name of names) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${root}\ndata:\n  - name: t\n    local: ${src}\n    remote: gpu:remote-${name}\n`);
    runs[name] = { argv: ['node', builds[name] as string, 'data', 'push', '-q'], cwd: dir };
  }
  runs.rsync = { argv: ['rsync', '-a', '-e', rsh, `${src}/`, `${host.user}@127.0.0.1:${join(root, 'remote-rsync')}/`], cwd: root };
  const all = [...names, 'rsync'];
  for (const k of all) await measured('change-bench', runs[k]!.argv, runs[k]!.cwd, env, host, echo);
  await sleep(1200);
  for (const k of [...all, ...all]) await measured('change-bench', runs[k]!.argv, runs[k]!.cwd, env, host, echo);
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
        const s = await measured('change-bench', runs[who]!.argv, runs[who]!.cwd, env, host, echo);
        (samples[k] ??= []).push(s);
        printSample(r + 1, k, s);
      }
    }
  }
  printMedians(samples);
} finally {
  stopSshd(host);
}
