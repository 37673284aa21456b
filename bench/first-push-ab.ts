// The ssh first push, builds back to back (issue 12): each round runs every labsync build named in
// LABSYNC_AB_BUILDS (`name=path/to/bin/labsync.js[,…]`, an optional `+VAR=value` after a path for
// that run's environment) into a fresh host folder and state, then `rsync -a` into a fresh folder and
// `rsync -rcn` over its copy; the order of the builds turns each round. A first push is the first
// contact: a connection labsync kept from an earlier run is closed first. Each run: wall ms, CPU ms of
// every process it started (a cgroup, as bench/sync.ts counts, plus kept masters' work) and the loopback
// sshd's whole process tree (kept-ssh.ts).
// LABSYNC_AB_ROUNDS (3). `npx tsup bench/first-push-ab.ts --format esm --platform node --target node20 --out-dir .bench/dist && node .bench/dist/first-push-ab.js`
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { startSshd, stopSshd } from '../test/harness/sshd.js';
import { closeMasters, costEnd, costStart, emulatedPersist, labsyncSockets } from './kept-ssh.js';
import { makeTree, median, ROOT, settleDisk, trash, usage } from './measure.js';
import { rshOf } from './ssh-runs.js';

const ROUNDS = Number(process.env.LABSYNC_AB_ROUNDS ?? 3);
const SCALE = Number(process.env.LABSYNC_BENCH_SYNC_SCALE ?? 1);

const builds = (process.env.LABSYNC_AB_BUILDS ?? 'main=/work/main/bin/labsync.js,this=bin/labsync.js').split(',').map((spec) => {
  // At the first '=' only: split(s, 2) drops what follows a second one (it did, the `+VAR=value` part).
  const at = (s: string): [string, string] => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)];
  const [name, rest] = at(spec);
  const [bin, ...vars] = rest.split('+');
  return { name, bin: resolve(bin as string), env: Object.fromEntries(vars.map(at)) };
});

const count = Math.max(10, Math.round(10_000 * SCALE));
// LABSYNC_AB_SRC: a tree of one's own (the bench's is shared, and other benches change a file of it).
const src = process.env.LABSYNC_AB_SRC ?? join(makeTree(SCALE === 1 ? 'sync-10k-50KiB' : `sync-10k-50KiB-x${SCALE}`, count, 40 * 1024, 60 * 1024, { ageSeconds: 24 * 3600 }), 'src');
const servers = mkdtempSync(join(ROOT, 'ab-'));
const host = await startSshd(join(servers, 'ssh'));
const cache = join(servers, 'home', '.cache');
const env = { ...isolatedEnv(join(servers, 'home')), XDG_CACHE_HOME: cache };
const mux = `${servers}/`;
const remoteDir = join(servers, 'remote');
mkdirSync(remoteDir, { recursive: true });
const rsh = rshOf(host);

type Sample = { wall: number; cpu: number; host: number };
const samples = new Map<string, Sample[]>();
const take = (name: string, script: string, cwd: string, extra: Record<string, string> = {}): void => {
  closeMasters(labsyncSockets(cache));
  settleDisk();
  const start = costStart(host.pid, mux);
  const u = usage(script, { cwd, env: { ...env, ...extra }, expect: [0] });
  const kept = costEnd(start, host.pid, mux, u.inCgroup);
  const s = { wall: u.ms, cpu: u.cpuMs + kept.masters, host: kept.host };
  samples.set(name, [...(samples.get(name) ?? []), s]);
  process.stderr.write(`  ${name}: wall ${s.wall.toFixed(0)} ms, client CPU ${s.cpu.toFixed(0)} ms, host CPU ${s.host.toFixed(0)} ms, all ${(s.cpu + s.host).toFixed(0)} ms\n`);
};

try {
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1}\n`);
    const order = round % 2 ? [...builds].reverse() : builds;
    for (const b of order) {
      const lab = join(servers, `lab-${b.name}`);
      const dest = join(remoteDir, `labsync-${b.name}`);
      trash(lab, join(servers, 'trash'));
      trash(dest, join(servers, 'trash'));
      mkdirSync(lab, { recursive: true });
      writeFileSync(join(lab, 'labsync.yaml'), `version: 1\ndefaults:\n  retries: 0\nremotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${remoteDir}\n${emulatedPersist(cache, host.user, host.port)}data:\n  - name: t\n    local: ${src}\n    remote: "gpu:labsync-${b.name}"\n`);
      take(b.name, `node ${b.bin} data push -q`, lab, b.env);
    }
    const raw = join(remoteDir, 'raw');
    trash(raw, join(servers, 'trash'));
    take('rsync -a', `rsync -a -e '${rsh}' ${src}/ ${host.user}@127.0.0.1:${raw}/`, servers);
    take('rsync -rcn', `rsync -rcn -e '${rsh}' ${src}/ ${host.user}@127.0.0.1:${raw}/`, servers);
  }
} finally {
  closeMasters(mux);
  await stopSshd(host);
  rmSync(servers, { recursive: true, force: true });
}

const med = (name: string, f: (s: Sample) => number): number => median((samples.get(name) ?? []).map(f));
const all = (s: Sample): number => s.cpu + s.host;
const rsyncAll = med('rsync -a', all);
const bothAll = rsyncAll + med('rsync -rcn', all);
const rsyncWall = med('rsync -a', (s) => s.wall);
const bothWall = rsyncWall + med('rsync -rcn', (s) => s.wall);
process.stdout.write('| run | wall | client CPU | host CPU | all CPU | ÷ rsync -a (wall / CPU) | ÷ rsync -a + -rcn (wall / CPU) |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const name of samples.keys()) {
  const w = med(name, (s) => s.wall);
  const c = med(name, all);
  process.stdout.write(`| ${name} | ${w.toFixed(0)} | ${med(name, (s) => s.cpu).toFixed(0)} | ${med(name, (s) => s.host).toFixed(0)} | ${c.toFixed(0)} | ${(w / rsyncWall).toFixed(2)}× / ${(c / rsyncAll).toFixed(2)}× | ${(w / bothWall).toFixed(2)}× / ${(c / bothAll).toFixed(2)}× |\n`);
}
