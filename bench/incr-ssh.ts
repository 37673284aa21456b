// Hand measurement (not part of `npm run bench`): one changed file pushed over the loopback sshd by two
// labsync builds back to back (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js), each with its own project
// and remote folder, the same source tree. Prints client CPU (user+sys of the run's process tree, from
// /usr/bin/time, plus what a kept ssh master spent) and the server's (the loopback sshd's whole process
// tree, kept-ssh.ts) per run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, costEnd, costStart } from './kept-ssh.js';

const root = process.env.INCR_DIR ?? '/tmp/incr-bench/ssh';
const src = process.env.INCR_SRC ?? '/tmp/labsync-bench/sync-10k-50KiB/src';
const builds = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string };
const rounds = Number(process.env.INCR_ROUNDS ?? 3);

const host = await startSshd(join(root, 'sshd'));
try {
  // Its own XDG_CACHE_HOME: a connection labsync keeps lives under root, its CPU counted, closed at the end.
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '', XDG_CACHE_HOME: join(root, 'home', '.cache') };
  const mux = `${root}/`;
  const run = (name: 'a' | 'b', label: string): void => {
    const dir = join(root, name);
    const start = costStart(host.pid, mux);
    const out = join(root, `time-${name}`);
    const t = Date.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', out, 'node', builds[name], 'data', 'push', '-q'], { cwd: dir, env, encoding: 'utf8' });
    const ms = Date.now() - t;
    if (r.status !== 0) throw new Error(`${name} ${label}: exit ${r.status} ${r.stderr}`);
    const [u, s, kb] = readFileSync(out, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    const kept = costEnd(start, host.pid, mux, false); // /usr/bin/time misses a master the run left: counted here
    process.stdout.write(`${label} ${name}: wall ${ms} ms, client CPU ${Math.round(((u ?? 0) + (s ?? 0)) * 1000 + kept.masters)} ms, peak ${Math.round((kb ?? 0) / 1024)} MB, server CPU ${Math.round(kept.host)} ms\n`);
  };
  for (const name of ['a', 'b'] as const) {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${join(root, `remote-${name}`)}\ndata:\n  - name: t\n    local: ${src}\n    remote: gpu:t\n    delete: true\n`);
    run(name, 'first');
    spawnSync('sleep', ['1.2']);
    run(name, 'prove');
    run(name, 'noop');
  }
  const file = join(src, 'd0', 'f0.bin');
  const size = readFileSync(file).length;
  for (let k = 1; k <= rounds; k++) {
    writeFileSync(file, Buffer.alloc(size + (k % 2), k));
    const when = new Date(Date.now() - 2000);
    utimesSync(file, when, when);
    for (const name of k % 2 ? (['a', 'b'] as const) : (['b', 'a'] as const)) run(name, `change ${k}`);
    for (const name of ['a', 'b'] as const) run(name, `after ${k}`);
  }
} finally {
  closeMasters(`${root}/`);
  await stopSshd(host);
}
