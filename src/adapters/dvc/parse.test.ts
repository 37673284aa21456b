import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command, ToolOutput } from '../types.js';
import { configArgvs, remoteUrl } from './argv.js';
import { classify } from './classify.js';
import { alreadyConfigured, cloudStatus, ownRemotes, verifyReport, workspaceChanges } from './parse.js';
import type { ResolvedPair } from '../../types.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/dvc-3.67.1/${name}`, import.meta.url), 'utf8');
const out = (exitCode: number, stderr: string): ToolOutput => ({ exitCode, stdout: '', stderr, durationMs: 1, timedOut: false, aborted: false });
const cmd: Command = { tool: 'dvc', args: ['push'], cwd: '/', mutates: true, label: 'push raw', pair: 'raw' };

describe('dvc parse (recorded dvc 3.67.1 output)', () => {
  it('reads cloud status: new is to push, deleted is to pull', () => {
    expect(cloudStatus(fixture('status-cloud-new.json')).toPush).toEqual(expect.arrayContaining(['data/raw', 'data/raw/a.csv', 'data/raw/b.csv']));
    expect(cloudStatus(fixture('status-cloud-in-sync.json'))).toEqual({ toPush: [], toPull: [] });
  });
  it('tells local edits from data that is simply not here yet', () => {
    expect(workspaceChanges(fixture('status-workspace-modified.json'))).toEqual(['data/raw (modified)']);
    expect(workspaceChanges(fixture('status-workspace-not-in-cache.json'))).toEqual([]);
    expect(verifyReport(fixture('status-workspace-not-in-cache.json'), '{}').extra).toEqual(['data/raw (not in cache)']);
  });
});

describe('alreadyConfigured', () => {
  const text = "['remote \"labsync-raw\"']\n    url = s3://b/p\n    endpointurl = http://127.0.0.1:9\n['remote \"other\"']\n    url = /x\n";
  it('is true only when every wanted setting is there with the same value', () => {
    expect(alreadyConfigured(text, 'labsync-raw', [['url', 's3://b/p'], ['endpointurl', 'http://127.0.0.1:9']])).toBe(true);
    expect(alreadyConfigured(text, 'labsync-raw', [['url', 's3://b/other']])).toBe(false);
    expect(alreadyConfigured(text, 'labsync-raw', [['url', 's3://b/p'], ['region', 'us-east-1']])).toBe(false);
    expect(alreadyConfigured(text, 'labsync-new', [['url', 's3://b/p']])).toBe(false);
    expect(alreadyConfigured('', 'labsync-raw', [['url', '/x']])).toBe(false);
  });
});

describe('dvc argv and classify', () => {
  it('configures the remote in config.local only, with no credential', () => {
    const pair = { name: 'raw', remote: { type: 's3', bucket: 'b', prefix: 'p/dvc', endpoint: 'http://127.0.0.1:9', region: 'us-east-1' } } as unknown as ResolvedPair;
    const t = { root: '/r', target: 'data/raw', dvcFile: 'data/raw.dvc', remoteName: 'labsync-raw' };
    expect(configArgvs(pair, t)).toEqual([
      ['remote', 'add', '--local', '--force', 'labsync-raw', 's3://b/p/dvc'],
      ['remote', 'modify', '--local', 'labsync-raw', 'endpointurl', 'http://127.0.0.1:9'],
      ['remote', 'modify', '--local', 'labsync-raw', 'region', 'us-east-1'],
    ]);
    expect(remoteUrl({ type: 'ssh', host: 'gpu', user: 'me', port: 2222, path: 'store', sshOptions: [] })).toBe('ssh://me@gpu:2222/store');
  });
  it('reports its lock as locked, and a missing repository as a stop', () => {
    expect(classify(out(255, 'ERROR: Unable to acquire lock. Most likely another DVC process is running'), cmd)).toMatchObject({ kind: 'fatal', locked: true });
    expect(classify(out(253, 'ERROR: you are not inside of a DVC repository'), cmd)).toMatchObject({ kind: 'fatal', safety: true });
    expect(classify(out(1, 'ERROR: failed to push data to the cloud - Could not connect to the endpoint URL'), cmd).kind).toBe('retry');
  });
  it('a missing storage plugin is fatal, and the hint installs dvc with it through pipx, not into the system Python', () => {
    expect(classify(out(255, fixture('push-s3-plugin-missing.stderr')), cmd)).toMatchObject({
      kind: 'fatal', reason: expect.stringMatching(/^a DVC plugin is missing: .*requires 'dvc-s3'/), hint: "pipx install --force 'dvc[s3]' (or 'dvc[ssh]')",
    });
  });
  it('a push cannot prove what its cache lacks: "not in cache" is missing there (a pull brings it: extra)', () => {
    expect(verifyReport(fixture('status-workspace-not-in-cache.json'), '{}', 'push')).toMatchObject({ missing: ['data/raw (not in cache)'], extra: [] });
  });
  it('the remotes a .dvc file\'s outputs name themselves', () => {
    expect(ownRemotes('outs:\n- md5: abc.dir\n  size: 1\n  nfiles: 1\n  path: raw\n  remote: team\n')).toEqual(['team']);
    expect(ownRemotes("outs:\n- remote: 'other'  # the lab's\n  md5: x\n  path: raw\n")).toEqual(['other']);
    expect(ownRemotes('outs:\n- md5: abc.dir\n  path: raw\n')).toEqual([]);
    expect(ownRemotes('outs: [{md5: x, path: raw, remote: team}]\n')).toEqual(['team']);
    // An import's upstream remote and a user's meta are not where this output is pushed.
    expect(ownRemotes('deps:\n- path: data/raw\n  repo:\n    url: ../upstream\n    remote: origin-store\nouts:\n- md5: x\n  path: raw\nmeta:\n  remote: s3://upstream/raw\n')).toEqual([]);
  });
});
