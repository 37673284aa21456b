// The hf adapter against a Hub on 127.0.0.1: the real `hf` CLI (huggingface_hub 2.4.0) talking to
// olah 0.5.4 (reads) and the harness's Hub-API write stand-in (writes as real git+LFS commits). What
// this proves: labsync ⇄ hf ⇄ the Hub's HTTP protocol (listing, preupload, LFS batch, commit, download),
// not the Hub's storage backend.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit, git, repoDir, resolveRev } from './harness/hub-git.js';
import { treeOf } from './harness/hub-standin.js';
import { HF_TEST_TOKEN, hfEnv, hubMissing, pushStallsOnSilentHub, useHub } from './harness/hub.js';
import { pastRacyWindow } from './harness/wait.js';
import { json, Lab } from './harness/lab.js';
import { freePort } from './harness/sshd.js';

interface Pair {
  attempts?: number;
  status: string; error: string | null; files: number; bytes: number;
  verify: { status: string; checked: number; changed: string[]; missing: string[]; extra: string[] } | null;
  changes?: { transfer: string[]; delete: string[] }; commands: string[];
}
interface Doc { pairs: Pair[] }

const hfMissing = await hubMissing();
const MiB = 1024 * 1024;
let repos = 0;

// Missing tools skip with the reason: scripts/ensure-tools.sh test installs both (CI runs it first).
// Each case runs the CLI several times, and every hf call starts a Python (about 0.35 s of CPU): on a
// shared 2-core machine a case took up to 56 s, so each gets twice the project's 90 s.
describe.skipIf(hfMissing !== undefined)('hf ⇄ a Hub on 127.0.0.1 (olah + write stand-in)', { timeout: 180_000 }, () => {
  const hub = useHub();

  const newRepo = (): string => `lab/model-${process.pid}-${++repos}`;
  const manifest = (repo: string, o: { mode?: string; revision?: string; create?: boolean; extra?: string; local?: string; sub?: string } = {}): string => `version: 1
defaults:
  retries: 0
remotes:
  hub: { type: hf, repo: ${repo}, repo_type: model${o.revision ? `, revision: ${o.revision}` : ''}${o.create ? ', create: true' : ''} }
models:
  - name: release
    local: ${o.local ?? 'models/release'}
    remote: hub${o.sub ? `:${o.sub}` : ''}
    mode: ${o.mode ?? 'push'}
${o.extra ?? ''}`;
  const cli = (lab: Lab, args: string[], env: Record<string, string> = {}) => lab.cli(args, { env: { ...hfEnv(hub, lab.home), ...env } });
  const remoteTree = (repo: string, rev = 'main'): Map<string, string> => treeOf(repoDir(hub.mirrors, 'model', repo), rev);
  const receipts = (lab: Lab): Record<string, unknown>[] => {
    const d = lab.path('.labsync', 'receipts');
    return existsSync(d) ? readdirSync(d).sort().map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as Record<string, unknown>) : [];
  };
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

  /** A lab whose pair folder holds a 12 MiB LFS file, small text files and awkward names. */
  function seeded(repo: string, o: Parameters<typeof manifest>[1] = {}): { lab: Lab; big: Buffer } {
    const lab = new Lab();
    const big = randomBytes(12 * MiB);
    lab.manifest(manifest(repo, o));
    lab.write(lab.path('models/release/model.safetensors'), big)
      .write(lab.path('models/release/config.json'), '{"layers": 2}\n')
      .write(lab.path('models/release/with space [v1].txt'), 'awkward\n')
      .write(lab.path('models/release/-dash/notes.md'), '# notes\n');
    return { lab, big };
  }

  it('push then pull round trip, a 12 MiB file through LFS, verified from the listing; the receipt and commit name the run', async () => {
    const repo = newRepo();
    const { lab, big } = seeded(repo, { create: true });
    await execa('git', ['init', '-q'], { cwd: lab.path(), env: lab.env });
    await execa('git', ['commit', '-q', '--allow-empty', '-m', 'code'], { cwd: lab.path(), env: lab.env });
    const code = (await execa('git', ['rev-parse', 'HEAD'], { cwd: lab.path(), env: lab.env })).stdout.trim();

    const pushed = await cli(lab, ['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', files: 4, verify: { status: 'in_sync', checked: 4 } });
    const tree = remoteTree(repo);
    expect([...tree.keys()].sort()).toEqual(['-dash/notes.md', '.gitattributes', 'config.json', 'model.safetensors', 'with space [v1].txt']);
    // The big file went through the LFS batch API: a pointer in git, the object under .git/lfs.
    const dirOf = repoDir(hub.mirrors, 'model', repo);
    expect(git(dirOf, ['cat-file', 'blob', tree.get('model.safetensors') as string])).toContain(`oid sha256:${sha(big)}`);
    const head = git(dirOf, ['rev-parse', 'main']);
    const message = git(dirOf, ['log', '-1', '--format=%B', 'main']);
    expect(message).toMatch(/^labsync push release from \S+ \(code [0-9a-f]{12}\)/);
    expect(message).toContain(`code commit: ${code}`);
    expect(receipts(lab).at(-1)).toMatchObject({ pair: 'release', status: 'ok', remoteCommit: head, toolVersions: { hf: '2.4.0' } });
    expect((await cli(lab, ['models', 'status'])).exitCode).toBe(0);

    // Pull into a fresh lab: the same bytes, nothing of hf's bookkeeping counted as data.
    const other = new Lab();
    other.manifest(manifest(repo, { mode: 'pull' }));
    const pulled = await cli(other, ['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(json<Doc>(pulled).pairs[0]).toMatchObject({ status: 'ok', files: 4, verify: { status: 'in_sync', checked: 4 } });
    expect(sha(readFileSync(other.path('models/release/model.safetensors')))).toBe(sha(big));
    expect(readFileSync(other.path('models/release/with space [v1].txt'), 'utf8')).toBe('awkward\n');
    expect(existsSync(other.path('models/release/.gitattributes'))).toBe(false);
    expect(receipts(other).at(-1)).toMatchObject({ status: 'ok', remoteCommit: head });
    // check compares with one listing and downloads nothing; once the hash cache holds the files (the
    // first check: files just written are too new to be trusted by their stat keys), no LFS file is read
    // again; the small git files are read for their blob ids (30 bytes).
    await pastRacyWindow(); // the first check remembers every file
    expect((await cli(other, ['check'])).exitCode).toBe(0);
    const check = await cli(other, ['check', '--json']);
    expect(check.exitCode, check.stdout).toBe(0);
    expect(json<{ pairs: { verify: { bytesHashed: { local: number; remote: number } } }[] }>(check).pairs[0]?.verify.bytesHashed).toEqual({ local: 30, remote: 0 });
  });

  it('the receipt of a push with verify off names the commit the push made (not the one listed before it)', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true, extra: '    verify: none\n' });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const dirOf = repoDir(hub.mirrors, 'model', repo);
    expect(receipts(lab).at(-1)).toMatchObject({ status: 'ok', remoteCommit: git(dirOf, ['rev-parse', 'main']) });
    lab.write(lab.path('models/release/config.json'), '{"layers": 3}\n');
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    expect(receipts(lab).at(-1)).toMatchObject({ status: 'ok', remoteCommit: git(dirOf, ['rev-parse', 'main']) });
    expect(receipts(lab).at(-1)?.remoteCommit).not.toBe(receipts(lab).at(-2)?.remoteCommit);
  });

  it('a no-op push makes no commit and runs no upload; one changed file makes exactly one commit sending only it', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const before = hub.standIn.commits();
    const again = await cli(lab, ['models', 'push', '--json']);
    expect(again.exitCode).toBe(0);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', files: 0 });
    expect(json<Doc>(again).pairs[0]?.commands.join('\n')).not.toMatch(/ upload /);
    expect(hub.standIn.commits()).toBe(before);

    lab.write(lab.path('models/release/config.json'), '{"layers": 3}\n');
    const changed = await cli(lab, ['models', 'push', '--json']);
    expect(changed.exitCode, changed.stdout).toBe(0);
    expect(json<Doc>(changed).pairs[0]).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    // One commit of exactly the planned file, after the commit it was listed at.
    const upload = json<Doc>(changed).pairs[0]?.commands.find((c) => /one commit/.test(c)) ?? '';
    expect(upload).toContain('(script: one commit adding 1 files, deleting 0)');
    expect(hub.standIn.commits()).toBe(before + 1);
  });

  it('a colleague\'s commit landing between the listing and the push\'s commit is never written over: refused (exit 3), nothing committed; the next push plans against it', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true, extra: '    delete: true\n    max_delete: 100%\n' });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const pushed = remoteTree(repo);
    lab.write(lab.path('models/release/config.json'), '{"layers": 3}\n');
    const dir = repoDir(hub.mirrors, 'model', repo);
    hub.standIn.beforeNextCommit(() => {
      const head = resolveRev(dir, 'main') as string;
      commit(dir, 'main', head, 'colleague', '', [{ kind: 'file', path: 'tokenizer.json', content: Buffer.from('{"theirs": true}') }]);
    });
    const raced = await cli(lab, ['models', 'push', '--json']);
    expect(raced.exitCode, raced.stdout + raced.stderr).toBe(3);
    expect(json<Doc>(raced).pairs[0]?.error).toMatch(/the branch moved since it was listed/);
    expect(remoteTree(repo).has('tokenizer.json')).toBe(true);
    expect(remoteTree(repo).get('config.json')).toBe(pushed.get('config.json'));
    // Run again: planned against the colleague's commit (a mirror would delete tokenizer.json only knowingly: it is listed now).
    const next = await cli(lab, ['models', 'push', '--json']);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(remoteTree(repo).get('config.json')).not.toBe(pushed.get('config.json'));
  });

  it('a saved push plan goes stale (exit 3, no commit) when a planned file is rewritten at its size before apply', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    lab.write(lab.path('models/release/config.json'), '{"layers": 3}\n');
    expect((await cli(lab, ['plan', 'models', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    const before = hub.standIn.commits();
    // Not what was reviewed, at the same size: only its mtime tells the listing it changed.
    lab.write(lab.path('models/release/config.json'), '{"layers": 9}\n');
    utimesSync(lab.path('models/release/config.json'), new Date(), new Date(Date.now() + 5000));
    const applied = await cli(lab, ['apply', 'plan.json', '--json']);
    expect(applied.exitCode, applied.stdout + applied.stderr).toBe(3);
    expect(json<Doc>(applied).pairs[0]?.error).toMatch(/the plan is stale: the source .* changed/);
    expect(hub.standIn.commits()).toBe(before);
  });

  it('a push to a branch not made yet plans against main, which it starts from: a mirror\'s first commit holds exactly the folder', async () => {
    const repo = newRepo();
    const main = new Lab();
    main.manifest(manifest(repo, { create: true }));
    main.write(main.path('models/release/README.md'), '# main\n').write(main.path('models/release/old.bin'), 'old');
    expect((await cli(main, ['models', 'push'])).exitCode).toBe(0);
    const dev = new Lab();
    dev.manifest(manifest(repo, { revision: 'dev', extra: '    delete: true\n    max_delete: 100%\n' }));
    dev.write(dev.path('models/release/new.bin'), 'new');
    const r = await cli(dev, ['models', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', changes: { transfer: ['new.bin'], delete: ['README.md', 'old.bin'] }, verify: { status: 'in_sync' } });
    expect([...remoteTree(repo, 'dev').keys()].filter((p) => p !== '.gitattributes').sort()).toEqual(['new.bin']);
    expect([...remoteTree(repo).keys()].filter((p) => p !== '.gitattributes').sort()).toEqual(['README.md', 'old.bin']);
    // A folder equal to the default branch makes no commit, so no branch: said, not passed over.
    const same = new Lab();
    same.manifest(manifest(repo, { revision: 'feature' }));
    same.write(same.path('models/release/README.md'), '# main\n').write(same.path('models/release/old.bin'), 'old');
    const quiet = await cli(same, ['models', 'push', '--json']);
    expect(quiet.exitCode, quiet.stdout + quiet.stderr).toBe(0);
    expect(quiet.stderr + quiet.stdout).toMatch(/the branch feature is not made yet at .*nothing was pushed, so it was not made/);
    // check and status say the branch is not there, though its files would match.
    const checked = await cli(same, ['check', '--json']);
    expect(checked.exitCode, checked.stdout).toBe(4);
    expect(json<Doc>(checked).pairs[0]?.error).toMatch(/the branch feature is not made yet/);
    expect((await cli(same, ['models', 'status'])).exitCode).toBe(4);
  });

  it('delete: true over max_delete is refused with nothing removed; under it the deletions ride in the same commit', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true, extra: '    delete: true\n    max_delete: 1\n' });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const before = hub.standIn.commits();
    unlinkSync(lab.path('models/release/config.json'));
    unlinkSync(lab.path('models/release/-dash/notes.md'));
    const refused = await cli(lab, ['models', 'push', '--json']);
    expect(refused.exitCode).toBe(3);
    expect(json<Doc>(refused).pairs[0]?.error).toMatch(/would delete 2 of 4 files.*over max_delete 1/);
    expect(remoteTree(repo).has('config.json')).toBe(true);
    expect(hub.standIn.commits()).toBe(before);

    lab.write(lab.path('models/release/-dash/notes.md'), '# notes v2\n');
    const pushed = await cli(lab, ['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', changes: { delete: ['config.json'] }, verify: { status: 'in_sync' } });
    expect(hub.standIn.commits()).toBe(before + 1);
    expect(remoteTree(repo).has('config.json')).toBe(false);
    // The Hub's own .gitattributes is never the folder's to delete.
    expect(remoteTree(repo).has('.gitattributes')).toBe(true);
  });

  it('a push into a subfolder of the repo mirrors that subfolder only; excluded remote files are never deleted', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    lab.manifest(manifest(repo, { create: true, sub: 'ckpt/step-1', extra: '    delete: true\n    exclude: ["*.tmp"]\n' }));
    const ckpt = lab.path('ckpt');
    lab.write(join(ckpt, 'a.bin'), randomBytes(1024)).write(join(ckpt, 'b.txt'), 'b\n').write(join(ckpt, 'scratch.tmp'), 'mine');
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: models/release', `local: ${ckpt}`));
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    // A file the pair excludes, put there by someone else: a mirror leaves it alone.
    const other = lab.outside('other');
    lab.write(join(other, 'theirs.tmp'), 'theirs');
    const up = await execa('hf', ['upload', repo, join(other, 'theirs.tmp'), 'ckpt/step-1/theirs.tmp'], { env: { ...lab.env, ...hfEnv(hub, lab.home) }, extendEnv: false, reject: false });
    expect(up.exitCode, up.stderr).toBe(0);
    unlinkSync(join(ckpt, 'b.txt'));
    const pushed = await cli(lab, ['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout).toBe(0);
    expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', changes: { delete: ['b.txt'] }, verify: { status: 'in_sync' } });
    expect([...remoteTree(repo).keys()].sort()).toEqual([
      '-dash/notes.md', '.gitattributes', 'ckpt/step-1/a.bin', 'ckpt/step-1/theirs.tmp', 'config.json', 'model.safetensors', 'with space [v1].txt',
    ]);
    // `models pull` of this push pair would write the root's files of the same names: refused, nothing written.
    const before = readFileSync(join(ckpt, 'a.bin'));
    const pulled = await cli(lab, ['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(3);
    expect(json<Doc>(pulled).pairs[0]?.error).toMatch(/a pull from a subfolder of an hf repo \(ckpt\/step-1\) is not supported/);
    expect(readFileSync(join(ckpt, 'a.bin')).equals(before)).toBe(true);
  });

  it('a clone\'s .git and a nested .cache/huggingface are never planned (hf skips them at any depth): a push converges, a mirror pull keeps them', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true, extra: '    delete: true\n' });
    lab.write(lab.path('models/release/.git/HEAD'), 'ref: refs/heads/main\n').write(lab.path('models/release/-dash/.cache/huggingface/x.lock'), '');
    // The Hub refuses any .cache segment in a commit path: one of a tokenizer's is never planned either.
    lab.write(lab.path('models/release/tokenizer/.cache/vocab.bin'), 'cache');
    const first = await cli(lab, ['models', 'push', '--json']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(json<Doc>(first).pairs[0]?.verify?.status).toBe('in_sync');
    expect([...remoteTree(repo).keys()].some((p) => p.includes('.git/') || p.includes('.cache/'))).toBe(false);
    const again = await cli(lab, ['models', 'push', '--json']);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', changes: { transfer: [], delete: [] } });
    const clone = new Lab();
    clone.manifest(manifest(repo, { mode: 'pull', extra: '    delete: true\n' }));
    clone.write(clone.path('models/release/.git/HEAD'), 'ref: refs/heads/main\n');
    const pulled = await cli(clone, ['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(existsSync(clone.path('models/release/.git/HEAD'))).toBe(true);
  });

  it('check catches a corrupted local copy, by LFS sha256 and by git blob id, without downloading', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const other = new Lab();
    other.manifest(manifest(repo, { mode: 'pull' }));
    expect((await cli(other, ['models', 'pull'])).exitCode).toBe(0);
    const big = other.path('models/release/model.safetensors');
    const bytes = readFileSync(big);
    bytes[5 * MiB] = (bytes[5 * MiB] ?? 0) ^ 0xff;
    const { mtime } = statSync(big);
    writeFileSync(big, bytes);
    writeFileSync(other.path('models/release/config.json'), '{"layers": 9}\n');
    const check = await cli(other, ['check', '--json']);
    expect(check.exitCode, check.stdout).toBe(4);
    expect(json<Doc>(check).pairs[0]?.verify?.changed.sort()).toEqual(['config.json', 'model.safetensors']);
    expect(mtime).toBeDefined();
    // A pull repairs exactly those two.
    const repaired = await cli(other, ['models', 'pull', '--json']);
    expect(json<Doc>(repaired).pairs[0]).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync' } });
  });

  it('pulls at a tag: the tagged files, and the receipt names the tagged commit', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const tagged = git(repoDir(hub.mirrors, 'model', repo), ['rev-parse', 'main']);
    const tag = await execa('hf', ['repos', 'tag', 'create', repo, 'v1', '-m', 'first'], { env: { ...lab.env, ...hfEnv(hub, lab.home) }, extendEnv: false, reject: false });
    expect(tag.exitCode, tag.stderr).toBe(0);
    lab.write(lab.path('models/release/config.json'), '{"layers": 4}\n');
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);

    const other = new Lab();
    other.manifest(manifest(repo, { mode: 'pull', revision: 'v1' }));
    const pulled = await cli(other, ['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(readFileSync(other.path('models/release/config.json'), 'utf8')).toBe('{"layers": 2}\n');
    expect(receipts(other).at(-1)).toMatchObject({ remoteCommit: tagged });
  });

  it('a missing repo or revision fails naming it, exit 1, nothing written locally; a push never creates a repo unasked', async () => {
    const lab = new Lab();
    const missing = newRepo();
    lab.manifest(manifest(missing, { mode: 'pull' }));
    const noRepo = await cli(lab, ['models', 'pull', '--json']);
    expect(noRepo.exitCode).toBe(1);
    expect(json<Doc>(noRepo).pairs[0]?.error).toMatch(new RegExp(`${missing}@main: the repo does not exist`));
    expect(existsSync(lab.path('models/release'))).toBe(false);

    const repo = newRepo();
    expect((await cli(seeded(repo, { create: true }).lab, ['models', 'push'])).exitCode).toBe(0);
    lab.manifest(manifest(repo, { mode: 'pull', revision: 'v404' }));
    const noRev = await cli(lab, ['models', 'pull', '--json']);
    expect(noRev.exitCode).toBe(1);
    expect(json<Doc>(noRev).pairs[0]?.error).toMatch(/@v404: the revision does not exist in the repo.*v404/);
    expect(existsSync(lab.path('models/release'))).toBe(false);

    const unasked = newRepo();
    const push = await cli(seeded(unasked).lab, ['models', 'push', '--json']);
    expect(push.exitCode).toBe(1);
    expect(json<Doc>(push).pairs[0]?.error).toContain('create: true');
    expect(existsSync(repoDir(hub.mirrors, 'model', unasked))).toBe(false);
  });

  it('--dry-run lists the files to add, replace and delete and changes nothing, not even creating the repo', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    const dry = await cli(lab, ['models', 'push', '--dry-run', '--json']);
    expect(dry.exitCode, dry.stdout).toBe(0);
    expect(json<Doc>(dry).pairs[0]).toMatchObject({ status: 'planned' });
    expect(json<Doc>(dry).pairs[0]?.changes?.transfer.sort()).toEqual(['-dash/notes.md', 'config.json', 'model.safetensors', 'with space [v1].txt']);
    expect(existsSync(repoDir(hub.mirrors, 'model', repo))).toBe(false);
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const before = hub.standIn.commits();
    lab.manifest(manifest(repo, { create: true, extra: '    delete: true\n' }));
    unlinkSync(lab.path('models/release/config.json'));
    const plan = await cli(lab, ['models', 'push', '--dry-run', '--json']);
    expect(json<Doc>(plan).pairs[0]?.changes).toMatchObject({ transfer: [], delete: ['config.json'] });
    expect(hub.standIn.commits()).toBe(before);
    expect(remoteTree(repo).has('config.json')).toBe(true);
  });

  it('a Hub that stops answering fails the pair (exit 1) within the retries, never a hang; one that fails after the listing fails the pull, nothing written', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const lab = new Lab();
    lab.manifest(manifest(newRepo(), { mode: 'pull', extra: '    retries: 1\n    retry_delay: 1s\n    stall_timeout: 10s\n' }));
    lab.write(lab.path('models/release/old.bin'), 'kept');
    const down = await cli(lab, ['models', 'pull', '--json'], { HF_ENDPOINT: dead });
    expect(down.exitCode).toBe(1);
    expect(json<Doc>(down).pairs[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(json<Doc>(down).pairs[0]?.error).toMatch(/could not be reached/);

    // A Hub that takes the connection and never answers: the listing gives up after stall_timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      lab.manifest(manifest(newRepo(), { mode: 'pull', extra: '    stall_timeout: 2s\n' }));
      const hung = await cli(lab, ['models', 'pull', '--json'], { HF_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
      expect(hung.exitCode).toBe(1);
      expect(json<Doc>(hung).pairs[0]?.error).toMatch(/could not be reached: .*Timeout/);
    } finally {
      silent.close();
    }

    // The listing answers, then the Hub fails its downloads: the pull fails, nothing lands (hf download
    // pinned to the listed commit asks no revision; unpinned, it once exited 0 with "Returning existing
    // local_dir", which classify takes for a failure).
    const repo = newRepo();
    expect((await cli(seeded(repo, { create: true }).lab, ['models', 'push'])).exitCode).toBe(0);
    lab.manifest(manifest(repo, { mode: 'pull' }));
    hub.standIn.failReadsAfter(1);
    try {
      const trap = await cli(lab, ['models', 'pull', '--json']);
      expect(trap.exitCode, trap.stdout).toBe(1);
      expect(json<Doc>(trap).pairs[0]?.status).toBe('failed');
      expect(readdirSync(lab.path('models/release'))).not.toContain('config.json');
    } finally {
      hub.standIn.failReadsAfter(undefined);
    }
  });

  it('a Hub gone silent mid-push: the stall watchdog stops hf upload after stall_timeout, exit 1, no commit', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    expect((await cli(lab, ['models', 'push'])).exitCode).toBe(0);
    const before = hub.standIn.commits();
    lab.manifest(manifest(repo, { create: true, extra: '    stall_timeout: 3s\n' }));
    lab.write(lab.path('models/release/config.json'), '{"layers": 5}\n');
    await pushStallsOnSilentHub(hub, () => cli(lab, ['models', 'push', '--json']));
    expect(hub.standIn.commits()).toBe(before);
  });

  it('the token appears in no output, log, state file or receipt, even with -v and a failure', async () => {
    const repo = newRepo();
    const { lab } = seeded(repo, { create: true });
    // HF_HOME unset: labsync keeps the client's home in .labsync/, never the user's ~/.cache/huggingface.
    const outs = [
      await cli(lab, ['models', 'push', '-v', '--json'], { HF_HOME: '' }),
      await cli(lab, ['check', '-v']),
      await cli(lab, ['plan', 'models', 'push']),
      await cli(lab, ['models', 'pull', '-v'], { HF_ENDPOINT: `http://127.0.0.1:${await freePort()}` }),
    ];
    expect(outs[0]?.exitCode).toBe(0);
    for (const o of outs) expect(o.stdout + o.stderr).not.toContain(HF_TEST_TOKEN);
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(lab.path('.labsync'));
    expect(files.some((f) => f.includes('receipts'))).toBe(true);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toContain(HF_TEST_TOKEN);
    expect(existsSync(join(lab.home, '.cache', 'huggingface'))).toBe(false);
  });
});
