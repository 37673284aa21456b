// `labsync demo`: a throw-away lab in a temp folder, run through the same handlers a user runs:
// code with git (a bare origin beside it), a dataset with dvc (a local store), data and models with
// rsync and rclone, results pulled back, notes kept in step both ways with rclone bisync.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapters } from '../adapters/index.js';
import { ToolMissingError, UsageError, type ExitCode } from '../errors.js';
import { makeRedactor } from '../exec/redact.js';
import { killAllChildren, run } from '../exec/run.js';
import { which } from '../exec/which.js';
import { useColor, type GlobalOptions } from './context.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

const MANIFEST = `version: 1
defaults:
  retries: 1
  exclude: ["*.tmp", "__pycache__/**"]
remotes:
  nas: { type: local, path: ../nas }
code:
  - name: repo
    local: .
    remote: ../origin.git   # git: a bare repository beside the lab
    branch: main
data:
  - name: raw
    local: data/raw
    remote: nas:datasets/raw
    delete: true          # mirror...
    max_delete: 20%       # ...but never delete more than a fifth of it
    backup: true
  - name: features
    tool: dvc             # versioned with dvc, stored in nas:dvcstore
    local: data/features
    remote: nas:dvcstore
  - name: eval-results
    local: results
    remote: nas:results
    mode: pull
  - name: notes
    tool: rclone
    local: notes
    remote: nas:notes
    mode: bisync          # both sides may change; the first run is an explicit --resync
models:
  - name: checkpoints
    tool: rclone
    local: models
    remote: nas:models
    tags: [hourly]
`;

function file(path: string, content: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

// Not a demo step: a tracking server is an 849 MB install and took 6.4 s of CPU (35 s on a loaded
// 2-core machine) to answer /health, against 9.8 s of CPU for the whole demo (README: MLflow pairs).
const MLFLOW_TRY = `
MLflow model registry pairs are not in the demo (a tracking server is a large install and slow to start). To try one:
  pipx install 'mlflow==3.17.2' && mlflow server --host 127.0.0.1 --port 5000 --workers 1 --serve-artifacts
  then a models pair with remote { type: mlflow, tracking_uri: "http://127.0.0.1:5000", model: NAME } (README: MLflow pairs)
`;

async function sh(cwd: string, tool: string, ...args: string[]): Promise<void> {
  const out = await run({ tool, args, cwd, env: { DVC_NO_ANALYTICS: '1', GIT_TERMINAL_PROMPT: '0' }, mutates: true, label: `demo setup: ${tool}` }, { redact: makeRedactor(process.env), timeoutMs: 120_000 });
  if (out.exitCode !== 0) throw new UsageError(`demo setup failed: ${tool} ${args.join(' ')}: ${out.stderr.trim() || out.spawnError}`);
}

async function buildLab(top: string): Promise<string> {
  const lab = join(top, 'lab');
  file(join(lab, 'labsync.yaml'), MANIFEST);
  file(join(lab, 'train.py'), 'print("training")\n');
  // Data moved by other tools stays out of git; data/features is dvc's to record (dvc add writes its own ignore).
  file(join(lab, '.gitignore'), '.labsync/\n/data/raw/\n/data/features/\n/models/\n/results/\n/notes/\n');
  for (let i = 1; i <= 10; i++) file(join(lab, 'data/raw', `shard-${String(i).padStart(3, '0')}.csv`), `id,value\n${i},${i * i}\n`);
  file(join(lab, 'data/raw/scratch.tmp'), 'excluded');
  for (let i = 1; i <= 3; i++) file(join(lab, 'data/features', `f${i}.parquet`), randomBytes(64 * 1024));
  file(join(lab, 'models/resnet-epoch1.ckpt'), randomBytes(256 * 1024));
  file(join(lab, 'models/resnet-epoch2.ckpt'), randomBytes(256 * 1024));
  file(join(top, 'nas/results/eval-2026-11-24.json'), '{"accuracy": 0.91}\n');
  for (const name of ['ideas.md', 'todo.md', 'runs.md']) file(join(lab, 'notes', name), `# ${name}\n`);
  file(join(top, 'nas/notes/from-the-gpu-host.md'), '# written on the other side\n');
  await sh(top, 'git', 'init', '--quiet', '--bare', '--initial-branch=main', join(top, 'origin.git'));
  await sh(lab, 'git', 'init', '--quiet', '--initial-branch=main');
  await sh(lab, 'dvc', 'init', '--quiet');
  await sh(lab, 'git', 'add', '--all');
  await sh(lab, 'git', 'commit', '--quiet', '--message', 'a lab with labsync');
  return lab;
}

export async function demoCommand(opts: GlobalOptions, keep: boolean): Promise<ExitCode> {
  for (const tool of [adapters.rsync, adapters.rclone, adapters.git, adapters.dvc]) {
    if (!(await which(tool.tool))) throw new ToolMissingError(`the demo needs ${tool.tool}, which is not installed`, tool.install.apt ?? tool.install.pipx ?? tool.install.url);
  }
  // A throw-away repository needs an author; the user's own identity is used when there is one.
  for (const [k, v] of [['GIT_AUTHOR_NAME', 'labsync demo'], ['GIT_AUTHOR_EMAIL', 'demo@labsync.invalid'], ['GIT_COMMITTER_NAME', 'labsync demo'], ['GIT_COMMITTER_EMAIL', 'demo@labsync.invalid']] as const) {
    process.env[k] ??= v;
  }
  // The demo's own world: the user's git config (commit signing, hooks), dvc's site cache in /var/tmp
  // and labsync's manifest cache are not the demo's to use or leave things in (a signing config failed
  // the setup; the caches outlived the demo).
  const top = mkdtempSync(join(tmpdir(), 'labsync-demo-'));
  // dvc's global and system config too: a user's `cache.dir` on a shared disk would get the demo's files.
  Object.assign(process.env, {
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LABSYNC_MANIFEST_CACHE: '0',
    DVC_SITE_CACHE_DIR: join(top, 'dvc-site'), DVC_GLOBAL_CONFIG_DIR: join(top, 'dvc-global'), DVC_SYSTEM_CONFIG_DIR: join(top, 'dvc-system'),
  });
  // However the demo ends: a second Ctrl-C exits at once (context.ts), and that still runs 'exit' listeners.
  const removeTop = (): void => {
    try {
      if (!keep) rmSync(top, { recursive: true, force: true });
    } catch {
      // a file made in it meanwhile: what is left is said by nothing, but never an uncaught error at exit
    }
  };
  process.once('exit', removeTop);
  // Before a step traps signals (while the lab is built), a Ctrl-C is kept for the next step boundary
  // instead of ending node with the folder left behind.
  let stopped = false;
  // A second one means now (a hung git or dvc there): the children killed, the exit listener removes the folder.
  const stop = (): void => {
    if (stopped) {
      killAllChildren();
      process.exit(130);
    }
    stopped = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await demoSteps(opts, keep, top, () => stopped);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    removeTop();
    process.off('exit', removeTop);
  }
}

async function demoSteps(opts: GlobalOptions, keep: boolean, top: string, stopped: () => boolean): Promise<ExitCode> {
  const lab = await buildLab(top);
  const base: GlobalOptions = { ...opts, config: join(lab, 'labsync.yaml') };
  const plain = !useColor(opts);
  const say = (text: string): void => void process.stdout.write(plain ? `\n${text}\n` : `\n\x1b[1m${text}\x1b[0m\n`);
  const steps: { title: string; run: () => Promise<ExitCode>; expect: ExitCode; before?: () => void }[] = [
    { title: '$ labsync data sync notes --resync   # a bisync pair\'s first run is always asked for explicitly', run: () => runCommand('data', 'sync', ['notes'], { ...base, resync: true }), expect: 0 },
    { title: '$ labsync data push features --commit "track features"   # dvc: add, push, record the .dvc file in git', run: () => runCommand('data', 'push', ['features'], { ...base, commit: 'track features with dvc' }), expect: 0 },
    { title: '$ labsync sync            # every pair: code (git), data (rsync, dvc), models (rclone), results (pull), notes (bisync)', run: () => runCommand(undefined, 'sync', [], base), expect: 0 },
    {
      title: '$ labsync data status     # after editing one shard',
      before: () => writeFileSync(join(lab, 'data/raw/shard-003.csv'), 'id,value\n3,9\n3,10\n'),
      run: () => runCommand('data', 'status', [], base),
      expect: 4,
    },
    { title: '$ labsync data push raw   # the change goes out, and is verified by checksum', run: () => runCommand('data', 'push', ['raw'], base), expect: 0 },
    { title: '$ labsync check           # the verifier: both sides of every pair, compared by checksum', run: () => runCommand(undefined, 'check', [], base), expect: 0 },
    {
      title: '$ labsync data push raw   # after losing 8 of 10 shards locally: the mirror guard refuses',
      before: () => {
        for (const name of readdirSync(join(lab, 'data/raw')).filter((n) => n.endsWith('.csv')).slice(2)) unlinkSync(join(lab, 'data/raw', name));
      },
      run: () => runCommand('data', 'push', ['raw'], base),
      expect: 3,
    },
    { title: '$ labsync status          # the last run of every pair', run: () => statusCommand(base, undefined), expect: 0 },
  ];
  let ok = true;
  for (const step of steps) {
    if (stopped()) {
      say('demo: interrupted');
      return 130;
    }
    step.before?.();
    say(step.title);
    const code = await step.run();
    // Ctrl-C ends the demo, not only the step it came in.
    if (code === 130 || stopped()) {
      say('demo: interrupted');
      return 130;
    }
    if (code !== step.expect) {
      ok = false;
      process.stderr.write(`demo: expected exit ${step.expect}, got ${code}\n`);
    }
  }
  say(ok ? `demo: every step did what it should (lab: ${keep ? lab : 'removed'})` : 'demo: a step did not do what it should');
  process.stdout.write(MLFLOW_TRY);
  return ok ? 0 : 1;
}
