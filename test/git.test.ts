// git for code pairs: real git against bare repositories on disk and over the loopback sshd, and git-lfs.
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import type { SshHost } from './harness/sshd.js';

type Doc = { pairs: { status: string; files?: number; error: string | null; hint?: string; changes?: { transfer: string[]; uncommitted?: string[] }; verify: { status: string } | null; commands: string[] }[] };

async function git(lab: Lab, cwd: string, ...args: string[]): Promise<string> {
  return String((await execa('git', args, { cwd, env: lab.env })).stdout);
}

/** A bare repository `<name>.git` beside the lab with one commit on main (`file` holding `text`); its path. */
async function bareWithOneCommit(lab: Lab, name: string, file: string, text: string, message: string): Promise<string> {
  const origin = lab.outside(`${name}.git`);
  await execa('git', ['init', '-q', '--bare', '--initial-branch=main', origin], { env: lab.env });
  const seed = lab.outside(`${name}-seed`);
  await execa('git', ['clone', '-q', origin, seed], { env: lab.env });
  writeFileSync(`${seed}/${file}`, text);
  await git(lab, seed, 'add', '.');
  await git(lab, seed, 'commit', '-q', '-m', message);
  await git(lab, seed, 'push', '-q', 'origin', 'HEAD:main');
  return origin;
}

/** A lab whose folder is a clone of a fresh bare origin with one commit on main. */
async function codeLab(remote?: (lab: Lab) => string, extra = ''): Promise<Lab> {
  const lab = new Lab();
  const origin = await bareWithOneCommit(lab, 'origin', 'README.md', '# lab\n', 'first');
  await execa('git', ['clone', '-q', origin, lab.path()], { env: lab.env, reject: false });
  writeFileSync(lab.path('.gitignore'), '.labsync/\nlabsync.yaml\n');
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\ncode:\n  - name: repo\n    local: .\n    remote: "${remote ? remote(lab) : origin}"\n    branch: main\n${extra}`);
  await git(lab, lab.path(), 'add', '.gitignore');
  await git(lab, lab.path(), 'commit', '-q', '-m', 'ignore labsync state');
  return lab;
}

describe('git', () => {
  it('push sends committed work; status shows ahead, then in sync; verify compares heads', async () => {
    const lab = await codeLab();
    const s = await lab.cli(['code', 'status', '--json']);
    expect(s.exitCode).toBe(4);
    expect(json<Doc>(s).pairs[0]?.changes?.transfer).toEqual([expect.stringMatching(/^[0-9a-f]+ ignore labsync state$/)]);
    const r = await lab.cli(['code', 'push', '--json']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect(await git(lab, lab.outside('origin.git'), 'log', '--format=%s', 'main')).toBe('ignore labsync state\nfirst');
    expect((await lab.cli(['code', 'status'])).exitCode).toBe(0);
    expect((await lab.cli(['check'])).exitCode).toBe(0);
    // Nothing left to push: no git push runs, and the pair is still ok and verified.
    const again = json<Doc>(await lab.cli(['code', 'push', '--json'])).pairs[0];
    expect(again).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync' } });
    expect(again?.commands.filter((c) => / push /.test(c))).toEqual([]);
  });

  it('refuses (exit 3) to push or pull while another branch than the pair\'s is checked out: a feature branch\'s commits never land on main', async () => {
    const lab = await codeLab();
    await git(lab, lab.path(), 'checkout', '-q', '-b', 'feature');
    writeFileSync(lab.path('wip.py'), 'print(1)\n');
    await git(lab, lab.path(), 'add', 'wip.py');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'unreviewed feature wip');
    const before = await git(lab, lab.outside('origin.git'), 'rev-parse', 'main');
    for (const action of ['push', 'pull']) {
      const r = await lab.cli(['code', action, '--json']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(3);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/has the branch feature checked out, but the pair's branch is main/) });
    }
    expect(await git(lab, lab.outside('origin.git'), 'rev-parse', 'main')).toBe(before);
    // check still compares (drift: HEAD is ahead of main there), as before: a developer on a branch is not refused a look.
    expect((await lab.cli(['code', 'check'])).exitCode).toBe(4);
    // A detached HEAD (a CI checkout) is what branch: is for: pushed there.
    await git(lab, lab.path(), 'checkout', '-q', '--detach', 'main');
    const detached = await lab.cli(['code', 'push', '--json']);
    expect(detached.exitCode, detached.stdout + detached.stderr).toBe(0);
  });

  it('a commit of a submodule that exists only here is not pushed as a superproject commit no clone could check out (exit 1, nothing pushed)', async () => {
    const lab = await codeLab();
    const libOrigin = await bareWithOneCommit(lab, 'lib', 'lib.py', 'x = 1\n', 'lib');
    await git(lab, lab.path(), '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', libOrigin, 'lib');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'add lib');
    expect((await lab.cli(['code', 'push'])).exitCode).toBe(0);
    writeFileSync(lab.path('lib', 'lib.py'), 'x = 2\n');
    await git(lab, lab.path('lib'), 'commit', '-q', '-am', 'local only');
    await git(lab, lab.path(), 'commit', '-q', '-am', 'bump lib');
    const before = await git(lab, lab.outside('origin.git'), 'rev-parse', 'main');
    const r = await lab.cli(['code', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).not.toBe(0);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/submodule/i);
    expect(await git(lab, lab.outside('origin.git'), 'rev-parse', 'main')).toBe(before);
  });

  it('refuses to push a dirty tree (exit 3) unless --commit is given, which commits and pushes', async () => {
    const lab = await codeLab();
    writeFileSync(lab.path('train.py'), 'print(1)\n');
    const refused = await lab.cli(['code', 'push', '--json']);
    expect(refused.exitCode).toBe(3);
    expect(json<Doc>(refused).pairs[0]?.error).toMatch(/^uncommitted changes \(train\.py\); commit them or run with --commit "message"/);
    const pushed = await lab.cli(['code', 'push', '--commit', 'add training script']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(await git(lab, lab.outside('origin.git'), 'log', '-1', '--format=%s', 'main')).toBe('add training script');
  });

  it('pull is fast-forward only; diverged history is a safety stop, never a merge; a rejected push too', async () => {
    const lab = await codeLab();
    await lab.cli(['code', 'push']);
    // Someone else pushes.
    const other = lab.outside('other');
    await execa('git', ['clone', '-q', lab.outside('origin.git'), other], { env: lab.env });
    writeFileSync(`${other}/theirs.txt`, 'theirs\n');
    await git(lab, other, 'add', '.');
    await git(lab, other, 'commit', '-q', '-m', 'theirs');
    await git(lab, other, 'push', '-q', 'origin', 'HEAD:main');
    const pulled = await lab.cli(['code', 'pull']);
    expect(pulled.exitCode, pulled.stdout).toBe(0);
    expect(existsSync(lab.path('theirs.txt'))).toBe(true);

    // Now both sides commit: history diverges.
    writeFileSync(`${other}/theirs2.txt`, 'x\n');
    await git(lab, other, 'add', '.');
    await git(lab, other, 'commit', '-q', '-m', 'theirs 2');
    await git(lab, other, 'push', '-q', 'origin', 'HEAD:main');
    writeFileSync(lab.path('mine.txt'), 'mine\n');
    await git(lab, lab.path(), 'add', 'mine.txt');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'mine');
    const headBefore = await git(lab, lab.path(), 'rev-parse', 'HEAD');
    for (const action of ['pull', 'push', 'sync']) {
      const r = await lab.cli(['code', action, '--json']);
      expect(r.exitCode, action).toBe(3);
      expect(json<Doc>(r).pairs[0]?.error).toMatch(/diverged \(1 local, 1 remote commits\)/);
    }
    expect(await git(lab, lab.path(), 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(await git(lab, lab.outside('origin.git'), 'log', '-1', '--format=%s', 'main')).toBe('theirs 2');
  });

  it('a push the remote rejects is a safety stop naming the way out', async () => {
    const lab = await codeLab();
    await lab.cli(['code', 'push']);
    // A hook on the origin that rejects every update, as a protected branch would.
    writeFileSync(lab.outside('origin.git/hooks/pre-receive'), '#!/bin/sh\necho "protected branch" >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(lab.path('x.txt'), 'x\n');
    await git(lab, lab.path(), 'add', 'x.txt');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'x');
    const r = await lab.cli(['code', 'push', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', hint: expect.stringContaining('never force-pushes') });
  });

  it('a remote that is down is retried, then fails (exit 1)', async () => {
    const lab = await codeLab(() => 'ssh://git@127.0.0.1:9/nowhere.git', '    retries: 1\n    retry_delay: 50ms\n');
    const r = await lab.cli(['code', 'status', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/Could not read from remote repository|Connection refused/);
  });

  it('pushes LFS objects to a plain bare remote and pulls them into a fresh clone', async () => {
    const lab = await codeLab(undefined, '    lfs: true\n');
    await git(lab, lab.path(), 'lfs', 'install', '--local');
    await git(lab, lab.path(), 'lfs', 'track', '*.ckpt');
    const weights = Buffer.alloc(200_000, 7);
    writeFileSync(lab.path('model.ckpt'), weights);
    const r = await lab.cli(['code', 'push', '--commit', 'weights']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const fresh = new Lab();
    await execa('git', ['clone', '-q', lab.outside('origin.git'), fresh.path()], { env: { ...fresh.env, GIT_LFS_SKIP_SMUDGE: '1' } });
    expect(readFileSync(fresh.path('model.ckpt'), 'utf8')).toMatch(/^version https:\/\/git-lfs/);
    // A user with LFS has run `git lfs install` once; the isolated test HOME has not.
    await git(fresh, fresh.path(), 'lfs', 'install', '--local');
    writeFileSync(fresh.path('labsync.yaml'), `version: 1\ncode:\n  - name: repo\n    local: .\n    remote: "${lab.outside('origin.git')}"\n    branch: main\n    lfs: true\n    mode: pull\n`);
    const pulled = await fresh.cli(['code', 'pull']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(readFileSync(fresh.path('model.ckpt')).equals(weights)).toBe(true);
  });

  it('reports an LFS object missing from the local store instead of pushing a broken pointer', async () => {
    const lab = await codeLab(undefined, '    lfs: true\n');
    await git(lab, lab.path(), 'lfs', 'install', '--local');
    await git(lab, lab.path(), 'lfs', 'track', '*.ckpt');
    writeFileSync(lab.path('lost.ckpt'), Buffer.alloc(50_000, 3));
    await git(lab, lab.path(), 'add', '.');
    await git(lab, lab.path(), 'commit', '-q', '-m', 'weights');
    // Gone from the LFS store, and the working file is only its pointer (as after a
    // GIT_LFS_SKIP_SMUDGE clone): nothing anywhere can rebuild the object.
    const { rmSync } = await import('node:fs');
    rmSync(lab.path('.git/lfs/objects'), { recursive: true, force: true });
    writeFileSync(lab.path('lost.ckpt'), await git(lab, lab.path(), 'show', 'HEAD:lost.ckpt') + '\n');
    await git(lab, lab.path(), 'add', 'lost.ckpt');
    expect(await git(lab, lab.path(), 'status', '--porcelain')).toBe('');
    const r = await lab.cli(['code', 'push', '--json']);
    expect(r.exitCode, r.stdout).toBe(1);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/^an LFS object is missing: /);
    expect(await git(lab, lab.outside('origin.git'), 'log', '-1', '--format=%s', 'main')).toBe('first');
  });

  it('a detached HEAD (and a folder outside any DVC repository) is a stop with the fix, not an internal error', async () => {
    const lab = await codeLab();
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    branch: main\n', ''));
    await git(lab, lab.path(), 'checkout', '-q', '--detach');
    const r = await lab.cli(['code', 'push', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/HEAD is detached/), hint: 'check out a branch, or set branch: on the pair' });
    const plain = new Lab().manifest('version: 1\nremotes:\n  st: { type: local, path: ../store }\ndata:\n  - { name: d, tool: dvc, local: data, remote: "st:x" }\n');
    plain.write(plain.path('data/a'), 'a');
    const d = await plain.cli(['data', 'push', '--json']);
    expect(d.exitCode).toBe(3);
    expect(json<Doc>(d).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/is not inside a DVC repository/), hint: expect.stringContaining('dvc init') });
  });

  it('a missing clone folder is a stop naming the folder and the clone to make, for every action; a missing dvc repository too', async () => {
    // The lab is itself a git repository: git must not fall back to it from the missing folder below.
    const lab = await codeLab();
    const origin = lab.outside('origin.git');
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ncode:\n  - name: other\n    local: clones/other\n    remote: "${origin}"\n    branch: main\n`);
    for (const action of ['pull', 'push', 'sync', 'status']) {
      const r = await lab.cli(['code', action, '--json']);
      expect(r.exitCode, `${action}: ${r.stdout}${r.stderr}`).toBe(3);
      const pair = json<Doc>(r).pairs[0];
      expect(pair?.status, action).toBe('refused');
      expect(pair?.error, action).toContain(`${lab.path('clones/other')} does not exist`);
    }
    const pulled = json<Doc>(await lab.cli(['code', 'pull', '--json'])).pairs[0];
    expect(pulled?.hint).toBe(`clone the repository there first: git clone ${origin} ${lab.path('clones/other')}`);
    expect(existsSync(lab.path('clones'))).toBe(false);
    expect((await lab.cli(['check'])).exitCode).toBe(3);

    const dvcLess = new Lab().manifest(`version: 1\nremotes:\n  st: { type: local, path: ../store }\ndata:\n  - { name: d, tool: dvc, local: ../gone/data, remote: "st:x", mode: pull }\n`);
    const d = await dvcLess.cli(['data', 'pull', '--json']);
    expect(d.exitCode, d.stdout + d.stderr).toBe(3);
    expect(json<Doc>(d).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/gone\/data is not inside a DVC repository/) });
  });

  // null only off CI on a machine without sshd (global-setup fails a CI run instead): these cases then skip.
  const ssh = inject('sshHost');
  it.skipIf(!ssh)('pushes over ssh in BatchMode', async () => {
    const host = ssh as SshHost;
    const lab = await codeLab((l) => `ssh://${host.user}@127.0.0.1:${host.port}${l.outside('origin.git')}`);
    const env = { GIT_SSH_COMMAND: `ssh -i ${host.identity} -o UserKnownHostsFile=${host.knownHosts} -F ${host.sshConfig} -o IdentitiesOnly=yes` };
    const r = await lab.cli(['code', 'push', '--json'], { env });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(await git(lab, lab.outside('origin.git'), 'log', '-1', '--format=%s', 'main')).toBe('ignore labsync state');
  });

  it.skipIf(!ssh)('uses the clone\'s core.sshCommand (a CI deploy key\'s usual place), in BatchMode, when GIT_SSH_COMMAND is not set', async () => {
    const host = ssh as SshHost;
    const lab = await codeLab((l) => `ssh://${host.user}@127.0.0.1:${host.port}${l.outside('origin.git')}`);
    const wrapper = lab.outside('deploy-ssh');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${lab.outside('deploy-ssh.log')}'\nexec ssh -i ${host.identity} -o UserKnownHostsFile=${host.knownHosts} -F ${host.sshConfig} -o IdentitiesOnly=yes "$@"\n`, { mode: 0o755 });
    await git(lab, lab.path(), 'config', 'core.sshCommand', wrapper);
    const r = await lab.cli(['code', 'push', '--json'], { env: { GIT_SSH_COMMAND: '' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(lab.outside('deploy-ssh.log'), 'utf8')).toMatch(/-o BatchMode=yes/);
    expect(await git(lab, lab.outside('origin.git'), 'log', '-1', '--format=%s', 'main')).toBe('ignore labsync state');
  });
});
