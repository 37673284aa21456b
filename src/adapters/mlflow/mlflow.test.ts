import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../manifest/load.js';
import { ManifestError, formatIssue } from '../../errors.js';
import type { ToolOutput } from '../types.js';
import { classify, EXIT_TRANSIENT, parseProgress } from './classify.js';
import { pickOf } from './commands.js';
import { parseListed, parseRecord } from './parse.js';
import { mlflow } from './index.js';

const out = (exitCode: number, stderr = '', stdout = ''): ToolOutput => ({ exitCode, stdout, stderr, durationMs: 1, timedOut: false, aborted: false });

describe('mlflow classify', () => {
  it('0 is ok, 75 (unreachable, 5xx, 429) is retried, the rest is fatal with the client\'s reason', () => {
    expect(classify(out(0))).toEqual({ kind: 'ok' });
    expect(classify(out(EXIT_TRANSIENT, 'progress bytes=1 files=0\nmlflow: cannot reach the MLflow server (ECONNREFUSED) — list\n'))).toEqual({ kind: 'retry', reason: 'cannot reach the MLflow server (ECONNREFUSED) — list' });
    expect(classify(out(1, "mlflow: alias 'nope' of model 'm' not found at http://h\n"))).toEqual({ kind: 'fatal', reason: "alias 'nope' of model 'm' not found at http://h" });
    expect(classify(out(1, 'mlflow: find model: HTTP 401\n'))).toMatchObject({ kind: 'fatal', hint: expect.stringContaining('MLFLOW_TRACKING_TOKEN') });
    expect(classify(out(9))).toEqual({ kind: 'fatal', reason: 'exit 9' });
  });

  it('reads the client\'s progress lines, nothing else', () => {
    expect(parseProgress('progress bytes=4194304 files=2')).toEqual({ bytes: 4194304, files: 2 });
    expect(parseProgress('mlflow: progress bytes=1')).toBeUndefined();
  });
});

describe('mlflow parse', () => {
  it('a listing: files with sizes and the sha256 SHA256SUMS gives them', () => {
    const text = '{"model":"m","alias":null,"version":3,"sums":true,"files":[{"path":"a b","size":2,"sha256":"ab"},{"path":"c","size":0}]}\n';
    expect(parseListed(text)).toEqual({ version: 3, sums: true, files: [{ path: 'a b', size: 2, sha256: 'ab' }, { path: 'c', size: 0 }] });
    expect(parseRecord(text)).toEqual({ model: 'm', version: 3, alias: null });
  });

  it('refuses a listing of another shape instead of reading it as empty', () => {
    expect(() => parseListed('{"version":1}')).toThrow(/no files array/);
    expect(() => parseListed('{"files":[{"path":"a"}]}')).toThrow(/no path or size/);
    expect(() => parseListed('not json')).toThrow();
    expect(parseRecord('')).toBeUndefined();
  });
});

const manifest = (pair: string): string => `version: 1
remotes:
  reg: { type: mlflow, tracking_uri: "\${MLFLOW_TRACKING_URI}", model: clf }
models:
  - name: clf
    local: models/clf
    remote: reg
${pair}`;

function problems(text: string, env: NodeJS.ProcessEnv = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' }): string[] {
  try {
    loadManifestText(text, '/lab/labsync.yaml', env);
  } catch (error) {
    if (error instanceof ManifestError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('mlflow manifest', () => {
  it('resolves the remote (experiment labsync by default) and the tool; a version is a snapshot, so delete defaults to true on a push (not a pull)', () => {
    const m = loadManifestText(manifest('    alias: champion\n'), '/lab/labsync.yaml', { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000/' });
    expect(m.pairs[0]).toMatchObject({ tool: 'mlflow', alias: 'champion', delete: true, remote: { type: 'mlflow', trackingUri: 'http://127.0.0.1:5000', model: 'clf', experiment: 'labsync' } });
    expect(loadManifestText(manifest('    mode: pull\n'), '/lab/labsync.yaml', { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000/' }).pairs[0]).toMatchObject({ delete: false });
    // A push lists the newest version, and where its alias points (set again when it is not set).
    expect(pickOf(m.pairs[0] as never, 'push')).toEqual({ latest: true, alias: 'champion' });
    expect(pickOf(m.pairs[0] as never, 'pull')).toEqual({ alias: 'champion' });
  });

  it('version only for pulls, not with alias; alias/version only for mlflow; no sub-path; located errors', () => {
    expect(problems(manifest('    version: 2\n'))).toEqual([expect.stringMatching(/labsync\.yaml:\d+:\d+ models\.clf: version: only a pull reads a given version/)]);
    expect(problems(manifest('    mode: pull\n    version: 2\n    alias: prod\n'))).toEqual([expect.stringContaining('give alias or version, not both')]);
    expect(problems(manifest('    mode: pull\n    version: 2\n'))).toEqual([]);
    expect(problems(manifest('    alias: "bad alias"\n'))).toEqual([expect.stringContaining('must be an MLflow alias')]);
    expect(problems(manifest('').replace('remote: reg', 'remote: reg:sub'))).toEqual([expect.stringContaining('an mlflow remote takes no sub-path')]);
    const rsync = `version: 1\nremotes:\n  nas: { type: local, path: /mnt }\nmodels:\n  - name: m\n    local: m\n    remote: nas:m\n    alias: prod\n`;
    expect(problems(rsync)).toEqual([expect.stringContaining('alias: only mlflow pairs have an alias (this pair uses rsync)')]);
    expect(problems(manifest('    tool: rsync\n'))).toEqual([expect.stringContaining('rsync cannot reach a mlflow remote')]);
  });

  it('did-you-mean for the remote\'s keys; an unset tracking URI variable is named', () => {
    expect(problems(manifest('').replace('model: clf', 'modle: clf')).join('\n')).toMatch(/modle.*did you mean 'model'/);
    expect(problems(manifest(''), {}).join('\n')).toMatch(/MLFLOW_TRACKING_URI/);
    expect(problems(manifest('').replace('"${MLFLOW_TRACKING_URI}"', 'mlflow.example'))).toContainEqual(expect.stringContaining("tracking_uri: must be the tracking server's http:// or https:// URL"));
  });

  it('the adapter needs no program of its own', () => {
    expect(mlflow.version().commands).toEqual([]);
  });

  it('commands: node runs labsync\'s client; the URI rides in the environment; a pull takes its paths NUL-separated on stdin', () => {
    const m = loadManifestText(manifest('    alias: prod\n'), '/lab/labsync.yaml', { MLFLOW_TRACKING_URI: 'http://u:pw@127.0.0.1:5000' });
    const pair = m.pairs[0] as (typeof m.pairs)[number];
    const plan = { send: [{ path: 'a b', size: 1, reason: 'missing' as const }], replace: [{ path: '-x\ny', size: 1, reason: 'content' as const }], delete: [{ path: 'old', size: 1, reason: 'extra' as const }], sourceFiles: 2, destFiles: 2, sourceDigest: '', destDigest: '' };
    const pulled = mlflow.files?.transfer(pair, 'pull', plan, { stamp: 's', tty: false, verbose: false, resync: false, full: false });
    expect(pulled?.delete).toEqual([]);
    const [cmd] = pulled?.send ?? [];
    expect(cmd).toMatchObject({ tool: process.execPath, env: { MLFLOW_TRACKING_URI: 'http://u:pw@127.0.0.1:5000' }, mutates: true, input: 'a b\0-x\ny\0' });
    expect(cmd?.args[0]).toMatch(/mlflow-client\.js$/);
    expect(cmd?.args.slice(1)).toEqual(['pull', JSON.stringify({ model: 'clf', dir: '/lab/models/clf', alias: 'prod' })]);
    expect(pulled?.deleteLocal).toEqual(['old']);
    // The version the plan was listed from: read exactly it, even if the alias moves before the download.
    const pinned = mlflow.files?.transfer(pair, 'pull', plan, { stamp: 's', tty: false, verbose: false, resync: false, full: false }, { at: 7 });
    expect(JSON.parse(pinned?.send[0]?.args[2] ?? '{}')).toEqual({ model: 'clf', dir: '/lab/models/clf', alias: 'prod', version: 7 });
    const pushed = mlflow.files?.transfer(pair, 'push', plan, { stamp: 's', tty: false, verbose: false, resync: false, full: false });
    const args = JSON.parse(pushed?.send[0]?.args[2] ?? '{}') as Record<string, unknown>;
    expect(args).toMatchObject({ model: 'clf', dir: '/lab/models/clf', experiment: 'labsync', alias: 'prod', tags: { 'labsync.pair': 'clf' } });
    expect(JSON.stringify(pushed?.send[0]?.args)).not.toContain('pw');
  });
});
