// `labsync demo`: a throw-away lab in a temp folder, run through the same handlers a user runs.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapters } from '../adapters/index.js';
import { ToolMissingError, type ExitCode } from '../errors.js';
import { which } from '../exec/which.js';
import type { GlobalOptions } from './context.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

const MANIFEST = `version: 1
defaults:
  retries: 1
  exclude: ["*.tmp", "__pycache__/**"]
remotes:
  nas: { type: local, path: ../nas }
data:
  - name: raw
    local: data/raw
    remote: nas:datasets/raw
    delete: true          # mirror...
    max_delete: 20%       # ...but never delete more than a fifth of it
    backup: true
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

function buildLab(): { lab: string; top: string } {
  const top = mkdtempSync(join(tmpdir(), 'labsync-demo-'));
  const lab = join(top, 'lab');
  file(join(lab, 'labsync.yaml'), MANIFEST);
  for (let i = 1; i <= 10; i++) file(join(lab, 'data/raw', `shard-${String(i).padStart(3, '0')}.csv`), `id,value\n${i},${i * i}\n`);
  file(join(lab, 'data/raw/scratch.tmp'), 'excluded');
  file(join(lab, 'models/resnet-epoch1.ckpt'), randomBytes(256 * 1024));
  file(join(lab, 'models/resnet-epoch2.ckpt'), randomBytes(256 * 1024));
  file(join(top, 'nas/results/eval-2026-11-24.json'), '{"accuracy": 0.91}\n');
  for (const name of ['ideas.md', 'todo.md', 'runs.md']) file(join(lab, 'notes', name), `# ${name}\n`);
  file(join(top, 'nas/notes/from-the-gpu-host.md'), '# written on the other side\n');
  return { lab, top };
}

export async function demoCommand(opts: GlobalOptions, keep: boolean): Promise<ExitCode> {
  for (const tool of [adapters.rsync, adapters.rclone]) {
    if (tool && !(await which(tool.tool))) throw new ToolMissingError(`the demo needs ${tool.tool}, which is not installed`, tool.install.apt ?? tool.install.url);
  }
  const { lab, top } = buildLab();
  const base: GlobalOptions = { ...opts, config: join(lab, 'labsync.yaml') };
  const say = (text: string): void => void process.stdout.write(`\n\x1b[1m${text}\x1b[0m\n`.replace(/\x1b\[\d+m/g, opts.color === false || process.env.NO_COLOR || !process.stdout.isTTY ? '' : '$&'));
  const steps: { title: string; run: () => Promise<ExitCode>; expect: ExitCode; before?: () => void }[] = [
    { title: '$ labsync data sync notes --resync   # a bisync pair\'s first run is always asked for explicitly', run: () => runCommand('data', 'sync', ['notes'], { ...base, resync: true }), expect: 0 },
    { title: '$ labsync sync            # every pair: push data (rsync), models (rclone), pull results, bisync notes', run: () => runCommand(undefined, 'sync', [], base), expect: 0 },
    {
      title: '$ labsync data status     # after editing one shard',
      before: () => writeFileSync(join(lab, 'data/raw/shard-003.csv'), 'id,value\n3,9\n3,10\n'),
      run: () => runCommand('data', 'status', [], base),
      expect: 4,
    },
    { title: '$ labsync data push raw   # the change goes out, and is verified by checksum', run: () => runCommand('data', 'push', ['raw'], base), expect: 0 },
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
    step.before?.();
    say(step.title);
    const code = await step.run();
    if (code !== step.expect) {
      ok = false;
      process.stderr.write(`demo: expected exit ${step.expect}, got ${code}\n`);
    }
  }
  say(ok ? `demo: every step did what it should (lab: ${keep ? lab : 'removed'})` : 'demo: a step did not do what it should');
  if (!keep) rmSync(top, { recursive: true, force: true });
  return ok ? 0 : 1;
}
