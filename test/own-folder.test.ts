// labsync's own folder (.labsync/: logs, state, locks, caches, receipts) never shows in the user's git or
// dvc, whatever their ignore files say, and is never sent or verified as data.
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';

type Doc = { pairs: { status: string; error: string | null; files: number; verify: { status: string; checked: number } | null }[] };

async function sh(lab: Lab, cwd: string, program: string, ...args: string[]): Promise<string> {
  return String((await execa(program, args, { cwd, env: lab.env })).stdout);
}

/** A clone whose .gitignore knows nothing of labsync, and a manifest written by hand and committed. */
async function handWrittenLab(): Promise<Lab> {
  const lab = new Lab();
  const origin = lab.outside('origin.git');
  await execa('git', ['init', '-q', '--bare', '--initial-branch=main', origin], { env: lab.env });
  await execa('git', ['clone', '-q', origin, lab.path()], { env: lab.env, reject: false });
  await sh(lab, lab.path(), 'git', 'checkout', '-q', '-b', 'main');
  writeFileSync(lab.path('.gitignore'), 'node_modules/\n*.pt\n');
  writeFileSync(lab.path('train.py'), 'print(0)\n');
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\ncode:\n  - name: repo\n    local: .\n    remote: "${origin}"\n    branch: main\n`);
  await sh(lab, lab.path(), 'git', 'add', '.');
  await sh(lab, lab.path(), 'git', 'commit', '-q', '-m', 'first');
  return lab;
}

describe("labsync's own folder", () => {
  it('stays out of git: a clean tree pushes, --commit never adds it, verify finds no drift', async () => {
    const lab = await handWrittenLab();
    const first = await lab.cli(['code', 'push', '--json']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(json<Doc>(first).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(existsSync(lab.path('.labsync/logs'))).toBe(true);
    expect(await sh(lab, lab.path(), 'git', 'status', '--porcelain', '--untracked-files=all')).toBe('');

    writeFileSync(lab.path('train.py'), 'print(1)\n');
    const committed = await lab.cli(['code', 'push', '--commit', 'train longer', '--json']);
    expect(committed.exitCode, committed.stdout + committed.stderr).toBe(0);
    expect(json<Doc>(committed).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(await sh(lab, lab.path(), 'git', 'show', '--name-only', '--format=', 'HEAD')).toBe('train.py');
    expect(await sh(lab, lab.path(), 'git', 'ls-files')).toBe('.gitignore\nlabsync.yaml\ntrain.py');
    expect((await lab.cli(['code', 'status'])).exitCode).toBe(0);
    expect((await lab.cli(['check'])).exitCode).toBe(0);
  });

  it('a repository that already tracks labsync files (committed by an older version) neither refuses nor commits them again', async () => {
    const lab = await handWrittenLab();
    lab.write(lab.path('.labsync/logs/old.log'), 'old\n');
    await sh(lab, lab.path(), 'git', 'add', '--force', '.labsync/logs/old.log');
    await sh(lab, lab.path(), 'git', 'commit', '-q', '-m', 'logs by mistake');
    lab.write(lab.path('.labsync/logs/old.log'), 'old\ngrew\n');
    const pushed = await lab.cli(['code', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    writeFileSync(lab.path('train.py'), 'print(2)\n');
    const committed = await lab.cli(['code', 'push', '--commit', 'train again', '--json']);
    expect(committed.exitCode, committed.stdout + committed.stderr).toBe(0);
    expect(await sh(lab, lab.path(), 'git', 'show', '--name-only', '--format=', 'HEAD')).toBe('train.py');
  });

  for (const tool of ['rsync', 'rclone'] as const) {
    it(`a local: . pair (${tool}) sends everything but .labsync/ and verifies in sync, twice`, async () => {
      const lab = new Lab();
      lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: all\n    tool: ${tool}\n    local: .\n    remote: "file://${lab.outside('nas')}"\n    delete: true\n`);
      lab.write(lab.path('data/a.csv'), 'a\n').write(lab.path('notes.md'), 'n\n');
      for (let run = 0; run < 2; run++) {
        const r = await lab.cli(['data', 'push', '--json']);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 3 } });
        expect(Object.keys(lab.tree(lab.outside('nas'))).sort()).toEqual(['data/a.csv', 'labsync.yaml', 'notes.md']);
      }
      expect((await lab.cli(['check'])).exitCode).toBe(0);
      expect((await lab.cli(['data', 'status'])).exitCode).toBe(0);
    });
  }

  it('stays out of dvc: a dvc-tracked folder holding the manifest pushes without it and stays in sync', async () => {
    const lab = new Lab();
    await execa('git', ['init', '-q', '--initial-branch=main', lab.path()], { env: lab.env });
    await execa('dvc', ['init', '-q'], { cwd: lab.path(), env: { ...lab.env, DVC_NO_ANALYTICS: '1' } });
    const data = lab.path('data/raw');
    for (let i = 0; i < 3; i++) lab.write(`${data}/part-${i}.csv`, `row ${i}\n`);
    writeFileSync(`${data}/labsync.yaml`, `version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    tool: dvc\n    local: .\n    remote: "file://${lab.outside('store')}"\n`);
    const pushed = await lab.cli(['data', 'push', '--json'], { cwd: data });
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(readFileSync(lab.path('data/raw.dvc'), 'utf8')).toMatch(/nfiles: 4\n/);
    for (let run = 0; run < 2; run++) {
      const s = await lab.cli(['data', 'status', '--json'], { cwd: data });
      expect(s.exitCode, s.stdout + s.stderr).toBe(0);
    }
  });
});
