// Hand measurement (not part of `npm run bench`): the bench's `check` row, back to back for two labsync
// builds (LABSYNC_A, LABSYNC_B: paths of bin/labsync.js) over a loopback sshd of its own. Each build has
// its own copy of the source tree (CHECK_SRC is copied, never changed), project and remote folder. A
// round, for each build in turn (order alternating): one file changed as bench/sync.ts changes it (new
// bytes and size, mtime 2 s back), `data push`, then right away `check --json` (the bench's order: the
// copy the push wrote is within the racy second), then `rsync -rn` of the same trees. Prints client CPU
// (user+sys of the run's process tree incl. ssh, /usr/bin/time, plus what a kept ssh master spent), the
// server's (the loopback sshd's whole process tree, kept-ssh.ts), and check's bytesHashed and work (cache rows parsed).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, costEnd, costStart } from './kept-ssh.js';

const root = process.env.CHECK_DIR ?? '/tmp/checkinc-bench';
const from = process.env.CHECK_SRC ?? '/tmp/labsync-bench/sync-10k-50KiB/src';
const builds = { a: process.env.LABSYNC_A as string, b: process.env.LABSYNC_B as string };
const rounds = Number(process.env.CHECK_ROUNDS ?? 3);

rmSync(join(root, 'sshd'), { recursive: true, force: true }); // a host key left by an earlier run stops ssh-keygen
const host = await startSshd(join(root, 'sshd'));
try {
  // Its own XDG_CACHE_HOME: a connection labsync keeps lives under root, its CPU counted, closed at the end.
  const env = { ...isolatedEnv(join(root, 'home')), PATH: process.env.PATH ?? '', XDG_CACHE_HOME: join(root, 'home', '.cache') };
  const mux = `${root}/`;
  const timed = (name: 'a' | 'b', label: string, argv: string[]): { stdout: string; cpu: number; server: number } => {
    const dir = join(root, name);
    const start = costStart(host.pid, mux);
    const out = join(root, `time-${name}`);
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, ...argv], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0 && !(label === 'check' && r.status === 4)) throw new Error(`${name} ${label}: exit ${r.status} ${r.stderr}`);
    const [u, s] = readFileSync(out, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    const kept = costEnd(start, host.pid, mux, false); // /usr/bin/time misses a master the run left: counted here
    return { stdout: r.stdout, cpu: Math.round(((u ?? 0) + (s ?? 0)) * 1000 + kept.masters), server: Math.round(kept.host) };
  };
  const rsh = `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;
  for (const name of ['a', 'b'] as const) {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(root, `remote-${name}`), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    spawnSync('cp', ['-a', from, join(dir, 'src')]);
    writeFileSync(join(dir, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${join(root, `remote-${name}`)}\ndata:\n  - name: t\n    local: ${join(dir, 'src')}\n    remote: gpu:t\n    delete: true\n`);
    timed(name, 'first', ['node', builds[name], 'data', 'push', '-q']);
    spawnSync('sleep', ['1.2']);
    timed(name, 'prove', ['node', builds[name], 'data', 'push', '-q']);
  }
  for (let k = 1; k <= rounds; k++) {
    for (const name of k % 2 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      const dir = join(root, name);
      const file = join(dir, 'src', 'd0', 'f0.bin');
      const size = readFileSync(file).length;
      writeFileSync(file, randomBytes(size + (k % 2 ? 1 : -1)));
      const when = new Date(Date.now() - 2000);
      utimesSync(file, when, when);
      const push = timed(name, 'push', ['node', builds[name], 'data', 'push', '-q']);
      const check = timed(name, 'check', ['node', builds[name], 'check', '--json']);
      const v = (JSON.parse(check.stdout) as { pairs: { status: string; verify: { bytesHashed?: unknown; work?: unknown } }[] }).pairs[0];
      const raw = timed(name, 'rsync', ['sh', '-c', `rsync -rn -e '${rsh}' ${join(dir, 'src')}/ ${host.user}@127.0.0.1:${join(root, `remote-${name}`, 't')}/`]);
      const again = timed(name, 'check', ['node', builds[name], 'check', '-q']);
      process.stdout.write(`round ${k} ${name}: push ${push.cpu}+${push.server} ms | check ${check.cpu}+${check.server} ms, ${v?.status}, bytesHashed ${JSON.stringify(v?.verify.bytesHashed)}, work ${JSON.stringify(v?.verify.work ?? null)} | rsync -rn ${raw.cpu}+${raw.server} ms | next check ${again.cpu}+${again.server} ms\n`);
    }
  }
} finally {
  closeMasters(`${root}/`);
  await stopSshd(host);
}
