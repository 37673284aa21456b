// hf plans of more files than hf's fnmatch patterns scale to (src/adapters/hf/exact-files.ts), against
// the same Hub on 127.0.0.1 as hf.test.ts (olah for reads, the harness's write stand-in for commits):
// huggingface_hub called with the exact paths, one commit per push, one download per file per pull.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { PATTERNS_MAX } from '../src/adapters/hf/exact-files.js';
import { hf } from '../src/adapters/hf/index.js';
import type { Command, PlanContext } from '../src/adapters/types.js';
import type { ResolvedPair } from '../src/types.js';
import { git, repoDir } from './harness/hub-git.js';
import { treeOf } from './harness/hub-standin.js';
import { hfEnv, hubMissing, pushStallsOnSilentHub, useHub } from './harness/hub.js';
import { json, Lab } from './harness/lab.js';

interface Pair {
  attempts?: number;
  status: string; error: string | null; files: number;
  verify: { status: string; checked: number } | null;
  changes?: { transfer: string[]; delete: string[] }; commands: string[];
}
interface Doc { pairs: Pair[] }

const hfMissing = await hubMissing();
const MANY = PATTERNS_MAX + 30;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

// Missing tools skip with the reason: scripts/ensure-tools.sh test installs both (CI runs it first).
describe.skipIf(hfMissing !== undefined)(`hf plans of over ${PATTERNS_MAX} files: exact paths through huggingface_hub, no patterns`, { timeout: 180_000 }, () => {
  const hub = useHub();

  const manifest = (repo: string, mode: string, extra = ''): string => `version: 1
defaults:
  retries: 0
remotes:
  hub: { type: hf, repo: ${repo}, repo_type: model, revision: dev, create: true }
models:
  - name: release
    local: models/release
    remote: hub
    mode: ${mode}
${extra}`;
  const cli = (lab: Lab, args: string[]) => lab.cli(args, { env: hfEnv(hub, lab.home) });
  const shard = (i: number): string => `shards/part [${String(i).padStart(3, '0')}].txt`;

  it('a first push to a new branch, a mirror push deleting most, a pull of them all: each one call with the exact paths, verified', async () => {
    const repo = `lab/many-${process.pid}`;
    const lab = new Lab();
    lab.manifest(manifest(repo, 'push', '    delete: true\n    max_delete: 1000\n'));
    const big = randomBytes(11 * 1024 * 1024);
    lab.write(lab.path('models/release/model.safetensors'), big);
    for (let i = 0; i < MANY; i++) lab.write(lab.path('models/release', shard(i)), `shard ${i}\n`);

    const pushed = await cli(lab, ['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', files: MANY + 1, verify: { status: 'in_sync', checked: MANY + 1 } });
    const commands = json<Doc>(pushed).pairs[0]?.commands.join('\n') ?? '';
    expect(commands).not.toMatch(/--include|--delete/);
    const dirOf = repoDir(hub.mirrors, 'model', repo);
    const tree = treeOf(dirOf, 'dev');
    expect(tree.size).toBe(MANY + 2); // and .gitattributes
    expect(git(dirOf, ['cat-file', 'blob', tree.get('model.safetensors') as string])).toContain(`oid sha256:${sha(big)}`);
    expect(git(dirOf, ['cat-file', 'blob', tree.get(shard(7)) as string])).toBe('shard 7');
    // One commit on the branch the push made, with labsync's message.
    expect(git(dirOf, ['rev-list', '--count', 'main..dev'])).toBe('1');
    expect(git(dirOf, ['log', '-1', '--format=%s', 'dev'])).toMatch(/^labsync push release from /);

    // Pulled whole into another folder: one download per file, the same bytes, hf's bookkeeping not counted.
    const other = new Lab();
    other.manifest(manifest(repo, 'pull'));
    const pulled = await cli(other, ['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(json<Doc>(pulled).pairs[0]).toMatchObject({ status: 'ok', files: MANY + 1, verify: { status: 'in_sync', checked: MANY + 1 } });
    expect(json<Doc>(pulled).pairs[0]?.commands.join('\n')).not.toMatch(/--include/);
    expect(sha(readFileSync(other.path('models/release/model.safetensors')))).toBe(sha(big));
    expect(readFileSync(other.path('models/release', shard(MANY - 1)), 'utf8')).toBe(`shard ${MANY - 1}\n`);
    expect(existsSync(other.path('models/release/.gitattributes'))).toBe(false);

    // Most shards deleted, one changed: the deletions and the change in one commit.
    for (let i = 0; i < MANY - 5; i++) unlinkSync(lab.path('models/release', shard(i)));
    lab.write(lab.path('models/release', shard(MANY - 1)), 'changed\n');
    const mirrored = await cli(lab, ['models', 'push', '--json']);
    expect(mirrored.exitCode, mirrored.stdout + mirrored.stderr).toBe(0);
    expect(json<Doc>(mirrored).pairs[0]?.changes?.delete).toHaveLength(MANY - 5);
    expect(json<Doc>(mirrored).pairs[0]).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync', checked: 6 } });
    const after = treeOf(dirOf, 'dev');
    expect([...after.keys()].sort()).toEqual(['.gitattributes', 'model.safetensors', ...Array.from({ length: 5 }, (_, k) => shard(MANY - 5 + k))].sort());
    expect(git(dirOf, ['rev-list', '--count', 'main..dev'])).toBe('2');
  });

  it('a Hub gone silent mid-push: the stall watchdog stops the commit after stall_timeout, exit 1, no commit', async () => {
    const repo = `lab/many-silent-${process.pid}`;
    const lab = new Lab();
    lab.manifest(manifest(repo, 'push', '    stall_timeout: 3s\n'));
    for (let i = 0; i < MANY; i++) lab.write(lab.path('models/release', shard(i)), `shard ${i}\n`);
    await pushStallsOnSilentHub(hub, () => cli(lab, ['models', 'push', '--json']));
    // The branch may have been made (before the commit, as hf upload makes it); nothing was committed to it.
    let tree = new Map<string, string>();
    try {
      tree = treeOf(repoDir(hub.mirrors, 'model', repo), 'dev');
    } catch {
      // no branch at all
    }
    expect([...tree.keys()].filter((k) => k.startsWith('shards/'))).toEqual([]);
  });

  it('a commit whose connection the Hub drops is tried again and lands once; one sent again after it landed deletes nothing twice', async () => {
    const repo = `lab/many-drop-${process.pid}`;
    const lab = new Lab();
    lab.manifest(manifest(repo, 'push', '    delete: true\n    max_delete: 1000\n    retries: 1\n    retry_delay: 1s\n'));
    for (let i = 0; i < MANY; i++) lab.write(lab.path('models/release', shard(i)), `shard ${i}\n`);
    hub.standIn.dropCommits(1);
    const pushed = await cli(lab, ['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', attempts: 2, verify: { status: 'in_sync' } });
    const dirOf = repoDir(hub.mirrors, 'model', repo);
    expect(git(dirOf, ['rev-list', '--count', 'main..dev'])).toBe('1');

    // The same deleting commit twice, as a retry after a lost answer sends it: the second deletes nothing
    // (the Hub refuses a whole commit that deletes a missing file) and still succeeds.
    const gone = Array.from({ length: MANY - 1 }, (_, i) => ({ path: shard(i), size: 0, reason: 'extra' as const }));
    const plan = { send: [], replace: [], delete: gone, sourceFiles: 1, destFiles: MANY, sourceDigest: '', destDigest: '' };
    const resolved = { name: 'release', tool: 'hf', local: lab.path('models/release'), root: lab.path(), exclude: [], remote: { type: 'hf', repo, repoType: 'model', revision: 'dev', path: '', create: false } } as unknown as ResolvedPair;
    const call = (hf.files as NonNullable<typeof hf.files>).transfer(resolved, 'push', plan, { stamp: 'now' } as PlanContext).send.at(-1) as Command;
    for (let round = 0; round < 2; round++) {
      const r = await execa(call.tool, call.args, { input: call.input, env: { ...lab.env, ...call.env, ...hfEnv(hub, lab.home) }, extendEnv: false, reject: false, cwd: lab.path() });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    }
    expect([...treeOf(dirOf, 'dev').keys()].sort()).toEqual(['.gitattributes', shard(MANY - 1)]);
  });

  it('a Hub that fails its downloads after the listing fails the pull (exit 1) and leaves no file under its final name', async () => {
    const repo = `lab/many-fail-${process.pid}`;
    const lab = new Lab();
    lab.manifest(manifest(repo, 'push'));
    for (let i = 0; i < MANY; i++) lab.write(lab.path('models/release', shard(i)), `shard ${i}\n`);
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);

    const other = new Lab();
    other.manifest(manifest(repo, 'pull'));
    // The listing's one revision read answers; every download after it fails.
    hub.standIn.failReadsAfter(1);
    try {
      const failed = await cli(other, ['models', 'pull', '--json']);
      expect(failed.exitCode, failed.stdout).toBe(1);
      expect(json<Doc>(failed).pairs[0]?.status).toBe('failed');
      // The client's "Force download failed" is judged by its cause, a 503: the Hub could not be reached.
      expect(json<Doc>(failed).pairs[0]?.error).toMatch(/could not be reached.*503/);
      expect(json<Doc>(failed).pairs[0]?.commands.join('\n')).toContain(`(script: ${MANY} files to download)`);
      const landed = existsSync(other.path('models/release/shards')) ? readdirSync(other.path('models/release/shards')) : [];
      expect(landed).toEqual([]);
    } finally {
      hub.standIn.failReadsAfter(undefined);
    }
  });
});
