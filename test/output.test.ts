// What people see: a terminal, cron, -q, NO_COLOR; plus doctor, the demo, and the per-attempt timeout.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, json, Lab } from './harness/lab.js';
const ESC = '\u001b[';

function smallLab(): Lab {
  const lab = new Lab().manifest('version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: data/raw\n    remote: nas:raw\n    delete: true\n');
  lab.write(lab.path('data/raw/a.csv'), 'a\n');
  return lab;
}

/** Runs the CLI under a real pseudo-terminal (util-linux `script`). */
async function inTerminal(lab: Lab, args: string[], env: Record<string, string> = {}): Promise<string> {
  const command = `stty cols 120 rows 40; ${[process.execPath, BIN, ...args].map((w) => `'${w}'`).join(' ')}`;
  const r = await execa('script', ['-qec', command, '/dev/null'], { cwd: lab.path(), env: { ...lab.env, TERM: 'xterm-256color', ...env }, extendEnv: false, reject: false, timeout: 30_000 });
  return String(r.stdout);
}

describe('output', () => {
  it('off a terminal (cron): timestamped plain lines and a table, no colour, no spinner', async () => {
    const r = await smallLab().cli(['sync']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z raw: sync started \(rsync\)$/m);
    expect(r.stdout).toMatch(/^\S+ raw: ok — 1 file, 2 B in \S+, verified \(checksum, 1 file; read 2 B here, 0 B on the remote; 1 written file proved by rsync's transfer checksum\)$/m);
    expect(r.stdout).toMatch(/^PAIR\s+ACTION\s+STATUS/m);
    expect(r.stdout + r.stderr).not.toContain(ESC);
  });

  it('a terminal that reports no width gets plain lines, not a runaway spinner', async () => {
    const lab = smallLab();
    const r = await execa('script', ['-qec', `${process.execPath} '${BIN}' sync`, '/dev/null'], { cwd: lab.path(), env: { ...lab.env, TERM: 'xterm' }, extendEnv: false, reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/raw: sync started/);
    expect(String(r.stdout).length).toBeLessThan(5000);
  });

  it('in a terminal: colour and a spinner; NO_COLOR and --no-color turn colour off', async () => {
    const lab = smallLab();
    const coloured = await inTerminal(lab, ['sync']);
    expect(coloured).toContain(ESC);
    expect(coloured).toMatch(/✔ raw/);
    expect(coloured).toMatch(/data\.raw\s+sync\s+/);
    for (const plain of [await inTerminal(lab, ['sync'], { NO_COLOR: '1' }), await inTerminal(lab, ['sync', '--no-color'])]) {
      expect(plain).not.toMatch(/\u001b\[(3\d|9\d|1|2)m/);
      expect(plain).toMatch(/data\.raw\s+sync\s+ok/);
    }
  });

  it('-q prints nothing when all is well and only the problem when not', async () => {
    const lab = smallLab();
    const ok = await lab.cli(['sync', '-q']);
    expect(ok).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    lab.write(lab.path('data/raw/a.csv'), 'changed\n');
    rmSync(lab.path('data/raw'), { recursive: true });
    const bad = await lab.cli(['sync', '-q']);
    expect(bad.exitCode).toBe(3);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^raw: refused — the source .* does not exist/)]);
  });

  it('--json keeps stdout one document and warnings on stderr, --log-file takes the log', async () => {
    const lab = smallLab();
    const log = lab.outside('my.log');
    const r = await lab.cli(['sync', '--json', '--log-file', log]);
    expect(json(r)).toMatchObject({ command: 'sync', ok: true });
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).every((l) => JSON.parse(l).level >= 20)).toBe(true);
  });

  it('a --log-file that cannot be written stops before anything runs (2); an unwritable default log folder only warns', async () => {
    const lab = smallLab();
    lab.write(lab.outside('not-a-folder'), '');
    const bad = await lab.cli(['sync', '--log-file', lab.outside('not-a-folder/run.log')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^labsync: --log-file \S+not-a-folder\/run\.log: cannot write there \(EEXIST/);
    expect(existsSync(lab.outside('nas'))).toBe(false);
    lab.write(lab.path('.labsync/logs'), ''); // a file where the log folder should be
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json(r)).toMatchObject({ command: 'sync', ok: true });
    expect(r.stderr).toMatch(/^warning: no log file this run: EEXIST: [^\n]*\.labsync\/logs'$/m);
    expect(readFileSync(lab.outside('nas/raw/a.csv'), 'utf8')).toBe('a\n');
  });

  it('a transfer over its timeout is stopped and, out of retries, fails (exit 1)', async () => {
    const lab = new Lab().manifest('version: 1\nremotes:\n  nas: { type: local, path: ../nas }\nmodels:\n  - name: m\n    local: m\n    remote: nas:m\n    bwlimit: 100K\n    timeout: 1s\n    retries: 1\n    retry_delay: 100ms\n');
    lab.write(lab.path('m/big'), randomBytes(2 * 1024 * 1024));
    const r = await lab.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ pairs: { status: string; attempts: number; error: string }[] }>(r).pairs[0]).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringMatching(/^timed out after 1s — rsync /) });
    expect(r.durationMs).toBeLessThan(20_000);
  });
});

describe('doctor', () => {
  it('lists every tool with its version, and what the manifest needs', async () => {
    const r = await smallLab().cli(['doctor', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = json<{ ok: boolean; tools: { program: string; path?: string; version?: string; neededBy: string[]; install: string }[] }>(r);
    const rsync = doc.tools.find((t) => t.program === 'rsync');
    expect(rsync).toMatchObject({ path: expect.stringMatching(/rsync$/), version: expect.stringMatching(/^\d+\.\d+/), neededBy: ['raw'] });
    expect(doc.tools.map((t) => t.program).sort()).toEqual(['aws', 'dvc', 'git', 'hf', 'mlflow', 'rclone', 'rsync', 'slurm', 'ssh']);
    // MLflow pairs talk REST from labsync itself: nothing to install on the client side.
    expect(doc.tools.find((t) => t.program === 'mlflow')).toMatchObject({ path: '(built in)', version: expect.stringMatching(/REST client/), install: expect.stringMatching(/nothing to install/) });
  });

  it('exits 1 and prints the install command when a needed tool is missing', async () => {
    const lab = smallLab();
    const r = await lab.cli(['doctor'], { env: { PATH: '/nonexistent' } });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✖ rsync\s+not found — install: apt-get install -y rsync/);
    expect(r.stderr).toContain('missing for this manifest: rsync');
    const emptyBin = lab.outside('empty-bin');
    mkdirSync(emptyBin);
    const run = await lab.cli(['sync', '--json'], { env: { PATH: emptyBin } });
    expect(json<{ pairs: { status: string; error: string; hint: string }[] }>(run).pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^rsync is not installed/), hint: 'apt-get install -y rsync' });
  });
});

describe('doctor on Python tools', () => {
  it('suggests pipx (a venv of its own) for a missing dvc or aws, never pip into the system Python', async () => {
    const lab = new Lab().manifest('version: 1\nremotes:\n  store: { type: local, path: ../store }\n  s3: { type: s3, bucket: b }\ndata:\n  - name: raw\n    tool: dvc\n    local: data/raw\n    remote: store:dvc\nmodels:\n  - name: m\n    local: m\n    remote: s3:m\n');
    lab.write(lab.path('data/raw/a.csv'), 'a\n');
    const bin = lab.outside('bin-without-python-tools');
    mkdirSync(bin);
    const r = await lab.cli(['doctor'], { env: { PATH: bin } });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✖ dvc\s+not found — install: pipx install 'dvc\[s3\]'   \(pipx: apt-get install -y pipx\) needed by raw/);
    expect(r.stdout).toMatch(/✖ aws\s+not found — install: pipx install awscli /);
    expect(r.stdout).not.toMatch(/(^|[^x]) install: pip /m);
    lab.write(lab.path('m/w.bin'), 'w');
    const run = await lab.cli(['models', 'push', '--json'], { env: { PATH: bin } });
    expect(json<{ pairs: { status: string; error: string; hint: string }[] }>(run).pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^aws is not installed/), hint: 'pipx install awscli' });
  });
});

describe('demo', () => {
  it('builds a throw-away lab, runs every step as expected, and cleans up (exit 0)', async () => {
    const lab = new Lab();
    const r = await lab.cli(['demo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('$ labsync sync');
    expect(r.stdout).toMatch(/would delete 8 of 10 files at the destination \(80%\), over max_delete 20%/);
    expect(r.stdout).toContain('demo: every step did what it should');
    // No tracking server in the demo (README: MLflow model registries); it says how to try one.
    expect(r.stdout).toMatch(/MLflow model registry pairs are not in the demo[^]*pipx install 'mlflow==3\.17\.2'/);
  });
});
