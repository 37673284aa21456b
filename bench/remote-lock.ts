// The remote lock's cost per run (issue 16), against moto and the loopback sshd: no-op pushes of a
// 20-file mirror with remote_lock true and false, interleaved, CPU = user+sys of labsync and every
// child it waited for (python's getrusage(RUSAGE_CHILDREN) around each run), round trips from moto's
// request log and sshd's "Starting session" lines. Standalone (not in `npm run bench`):
//   sh scripts/bench-one.sh remote-lock [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv } from '../test/harness/env.js';
import { makeBucket, S3_KEYS, startMoto, stopMoto } from '../test/harness/moto.js';
import { sshRemote, startSshd, stopSshd } from '../test/harness/sshd.js';
import { BIN } from './measure.js';

const runs = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'labsync-bench-lock-'));
const ssh = await startSshd(join(dir, 'ssh'));
const moto = await startMoto(dir);
const env = { ...isolatedEnv(join(dir, 'home')), ...S3_KEYS };
const bucket = await makeBucket(moto, env);
const remotes = { s3: `{ type: s3, bucket: ${bucket}, region: us-east-1, endpoint: "${moto.endpoint}" }`, ssh: sshRemote(ssh, join(dir, 'nas')) };

/** CPU seconds of one `data push` and its children. */
function cpu(cwd: string): number {
  const py = 'import resource,subprocess,sys\na=resource.getrusage(resource.RUSAGE_CHILDREN)\np=subprocess.run(sys.argv[1:])\nb=resource.getrusage(resource.RUSAGE_CHILDREN)\nprint(p.returncode,(b.ru_utime-a.ru_utime)+(b.ru_stime-a.ru_stime))';
  const r = spawnSync('python3', ['-c', py, process.execPath, BIN, 'data', 'push', '-q'], { cwd, env, encoding: 'utf8' });
  const [rc, s] = r.stdout.trim().split(' ');
  if (rc !== '0') throw new Error(`labsync exited ${rc}: ${r.stderr}`);
  return Number(s);
}
const lines = (file: string, needle: string): number => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(needle)).length;

try {
  for (const [kind, remote] of Object.entries(remotes)) {
    const labs = new Map<boolean, string>();
    for (const lock of [true, false]) {
      const root = join(dir, `${kind}-${lock}`);
      mkdirSync(join(root, 'data'), { recursive: true });
      for (let i = 0; i < 20; i++) writeFileSync(join(root, 'data', `f${i}.txt`), `file ${i}`);
      writeFileSync(join(root, 'labsync.yaml'), `version: 1\nremotes:\n  store: ${remote}\ndata:\n  - { name: ds, local: data, remote: "store:${kind}-${lock}", delete: true, remote_lock: ${lock} }\n`);
      labs.set(lock, root);
      cpu(root); // the first push sends the files; the measured ones find nothing to do
    }
    const count = (): number => (kind === 's3' ? lines(join(dir, `moto-${moto.port}.log`), '.labsync-lock') : lines(join(dir, 'ssh', 'sshd.log'), 'Starting session'));
    const cpuMs = new Map<boolean, number>([[true, 0], [false, 0]]);
    const trips = new Map<boolean, number>([[true, 0], [false, 0]]);
    for (let i = 0; i < runs; i++) {
      for (const lock of [true, false]) {
        const before = count();
        cpuMs.set(lock, (cpuMs.get(lock) ?? 0) + cpu(labs.get(lock) as string) * 1000);
        trips.set(lock, (trips.get(lock) ?? 0) + count() - before);
      }
    }
    const what = kind === 's3' ? 'lock requests' : 'ssh sessions';
    process.stdout.write(`${kind}: ${runs} no-op pushes each; CPU/run with lock ${Math.round((cpuMs.get(true) ?? 0) / runs)} ms, without ${Math.round((cpuMs.get(false) ?? 0) / runs)} ms; ${what}/run with lock ${(trips.get(true) ?? 0) / runs}, without ${(trips.get(false) ?? 0) / runs}\n`);
  }
} finally {
  await stopSshd(ssh);
  await stopMoto(moto);
  rmSync(dir, { recursive: true, force: true });
}
