// The mirror's deletion step (rsync --delete-missing-args over the named paths) writes no file: what
// it names that the source has again (a file back since the listing, a host folder's file the listing
// did not see) is left as it is, never rewritten with a new mtime and without the pair's options (a
// review found both). Real rsync, with the argv labsync builds, over two local folders.
import { execa } from 'execa';
import { mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deleteArgv } from '../src/adapters/rsync/argv.js';
import { loadManifestText } from '../src/manifest/load.js';
import { Lab } from './harness/lab.js';

describe('the deletion step (real rsync)', () => {
  it('deletes what the source lacks, replaces a file by the folder the source has there, and writes no file', async () => {
    const lab = new Lab();
    const text = `version: 1\ndata:\n  - name: raw\n    local: src\n    remote: "file://${lab.outside('dst')}"\n    delete: true\n`;
    const pair = loadManifestText(text, lab.path('labsync.yaml'), {}, lab.path()).pairs[0];
    if (!pair) throw new Error('no pair');
    const src = lab.path('src');
    const dst = lab.outside('dst');
    mkdirSync(join(src, 'x'), { recursive: true });
    lab.write(join(src, 'back.txt'), 'new at the source').write(join(src, 'D/y'), 'y').write(join(dst, 'back.txt'), 'old copy').write(join(dst, 'D/y'), 'y');
    lab.write(join(dst, 'D/gone'), 'g').write(join(dst, 'x'), 'a file').write(join(dst, 'empty-too'), '');
    writeFileSync(join(src, 'empty-too'), '');
    const old = new Date('2020-01-01T00:00:00Z');
    for (const f of ['back.txt', 'D/y', 'empty-too']) utimesSync(join(dst, f), old, old);
    const args = deleteArgv(pair, 'push', { stamp: 't', tty: false, verbose: false, resync: false, full: false } as never);
    const r = await execa('rsync', args, { cwd: lab.path(), input: ['back.txt', 'D', 'x', 'empty-too'].map((p) => `${p}\0`).join(''), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lab.tree(dst)).toEqual({ 'back.txt': 'old copy', 'D/y': 'y', 'empty-too': '' });
    expect(statSync(join(dst, 'x')).isDirectory()).toBe(true);
    for (const f of ['back.txt', 'D/y', 'empty-too']) expect(statSync(join(dst, f)).mtimeMs, f).toBe(old.getTime());
  });
});

describe('a mirror pull\'s deletions in a folder the remote no longer has', () => {
  it('remove the planned files only: a file written there while the pull ran stays (the folder was emptied whole), the emptied folders go', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    mode: pull\n    delete: true\n    max_delete: 100%\n    bwlimit: 200K\n`);
    lab.write(lab.outside('nas/raw/keep.bin'), 'k').write(lab.outside('nas/raw/old/a.ckpt'), 'a').write(lab.outside('nas/raw/gone/deep/b'), 'b');
    expect((await lab.cli(['data', 'pull'])).exitCode).toBe(0);
    // What no listing plans: an empty folder in a folder the remote will drop; its removal takes it.
    const { mkdirSync: mk } = await import('node:fs');
    mk(lab.path('raw/gone/empty'));
    // The remote drops old/ and gone/, and gets a larger file: the pull's transfer takes seconds.
    const { rmSync } = await import('node:fs');
    const { randomBytes } = await import('node:crypto');
    rmSync(lab.outside('nas/raw/old'), { recursive: true });
    rmSync(lab.outside('nas/raw/gone'), { recursive: true });
    lab.write(lab.outside('nas/raw/big.bin'), randomBytes(1024 * 1024));
    const run = lab.spawn(['data', 'pull', '--json']);
    const { until } = await import('./harness/wait.js');
    const { processesMentioning } = await import('./harness/processes.js');
    await until('the transfer', () => processesMentioning(lab.outside('nas')).some((p) => p.cmdline.startsWith('rsync') && p.cmdline.includes('--bwlimit')));
    lab.write(lab.path('raw/old/today.ckpt'), 'written while the pull ran');
    const r = await run;
    // The new file is the remote's to learn of: the verify after says it is there only (drift), never deleted.
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(4);
    expect(lab.tree(lab.path('raw'))).toMatchObject({ 'old/today.ckpt': 'written while the pull ran', 'keep.bin': 'k' });
    expect(lab.tree(lab.path('raw'))['old/a.ckpt']).toBeUndefined();
    const { existsSync } = await import('node:fs');
    expect(existsSync(lab.path('raw/gone'))).toBe(false);
  });
});

describe('a mirror pull\'s removal of a folder the remote dropped keeps what the pair excludes', () => {
  it('excluded symlinks and folders inside it stay, as rsync --delete keeps them (review 40: a wandb link and an inner checkpoint folder went)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    mode: pull\n    delete: true\n    max_delete: 100%\n    exclude: ["wandb/", "ckpt/"]\n`);
    lab.write(lab.outside('nas/raw/keep.bin'), 'k').write(lab.outside('nas/raw/run1/a.bin'), 'a');
    expect((await lab.cli(['data', 'pull'])).exitCode).toBe(0);
    const { mkdirSync: mk, rmSync, symlinkSync, lstatSync, existsSync } = await import('node:fs');
    mk(lab.path('raw/run1/wandb'), { recursive: true });
    symlinkSync('run-x', lab.path('raw/run1/wandb/latest-run'));
    mk(lab.path('raw/run1/ckpt/step2'), { recursive: true });
    symlinkSync('step1.pt', lab.path('raw/run1/ckpt/latest'));
    mk(lab.path('raw/run1/emptied'));
    rmSync(lab.outside('nas/raw/run1'), { recursive: true });
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(existsSync(lab.path('raw/run1/a.bin'))).toBe(false);
    expect(lstatSync(lab.path('raw/run1/wandb/latest-run')).isSymbolicLink()).toBe(true);
    expect(lstatSync(lab.path('raw/run1/ckpt/latest')).isSymbolicLink()).toBe(true);
    expect(lstatSync(lab.path('raw/run1/ckpt/step2')).isDirectory()).toBe(true);
    // What the pair does not exclude goes with the folder, as before.
    expect(existsSync(lab.path('raw/run1/emptied'))).toBe(false);
  });
});

describe('a mirror pull whose folder holds another pair\'s folder', () => {
  it('is refused (exit 3) naming the pair and the exclude, the inner pair\'s files untouched; a push of the same mirror and the inner pair run', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: outer\n    local: data\n    remote: nas:data\n    delete: true\n    max_delete: 100%\n  - name: inner\n    local: data/ckpt\n    remote: nas:ckpt\n`);
    lab.write(lab.outside('nas/data/a.bin'), 'a').write(lab.outside('nas/ckpt/m.pt'), 'm');
    lab.write(lab.path('data/ckpt/new.pt'), 'written here');
    const pulled = await lab.cli(['data', 'pull', 'outer', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(3);
    expect(JSON.parse(pulled.stdout).pairs[0].error).toMatch(/holds the pair data\.inner \(ckpt\/\): a mirror pull would delete its files and backups; nothing was changed\. Add exclude: \["\/ckpt\/"\]/);
    expect(lab.tree(lab.path('data'))).toEqual({ 'ckpt/new.pt': 'written here' });
    // A dry run and a saved plan say so too (review 40: both planned the deletion, exit 0, and apply was refused).
    const dry = await lab.cli(['data', 'pull', 'outer', '--dry-run']);
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(3);
    expect(dry.stdout + dry.stderr).toMatch(/holds the pair data\.inner/);
    expect((await lab.cli(['plan', 'data', 'pull', 'outer', '--save', lab.outside('p.json')])).exitCode).toBe(3);
    expect((await lab.cli(['data', 'pull', 'inner'])).exitCode).toBe(0);
    expect((await lab.cli(['data', 'push', 'outer'])).exitCode).toBe(0);
    expect((await lab.cli(['validate'])).exitCode).toBe(0);
  });

  it('through a link too: a pair whose folder is a link into the mirror\'s folder, or a mirror whose folder is a link over the pair\'s, is named and the pull refused, the inner files untouched (the folders as written are side by side)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: outer\n    local: data\n    remote: nas:data\n    delete: true\n    max_delete: 100%\n  - name: inner\n    local: ckpt\n    remote: nas:ckpt\n  - name: big\n    local: big\n    remote: nas:big\n    delete: true\n    max_delete: 100%\n  - name: part\n    local: store/part\n    remote: nas:part\n`);
    lab.write(lab.outside('nas/data/a.bin'), 'a').write(lab.outside('nas/big/b.bin'), 'b');
    lab.write(lab.path('data/ckpt/new.pt'), 'written here').write(lab.path('store/part/p.pt'), 'part');
    symlinkSync('data/ckpt', lab.path('ckpt'));
    symlinkSync('store', lab.path('big'));
    const pulled = await lab.cli(['data', 'pull', 'outer', 'big', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(3);
    const errors = JSON.parse(pulled.stdout).pairs.map((p: { name: string; error: string }) => [p.name, p.error]);
    expect(errors[0]).toEqual(['outer', expect.stringMatching(/holds the pair data\.inner \(ckpt\/\): a mirror pull would delete its files and backups; nothing was changed\. Add exclude: \["\/ckpt\/"\]/)]);
    expect(errors[1]).toEqual(['big', expect.stringMatching(/holds the pair data\.part \(part\/\)/)]);
    expect(lab.tree(lab.path('data'))).toEqual({ 'ckpt/new.pt': 'written here' });
    expect(lab.tree(lab.path('store'))).toEqual({ 'part/p.pt': 'part' });
    // The exclude it names is enough.
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('    remote: nas:data\n', '    remote: nas:data\n    exclude: ["/ckpt/"]\n'));
    expect((await lab.cli(['data', 'pull', 'outer'])).exitCode).toBe(0);
    expect(lab.tree(lab.path('data'))).toEqual({ 'a.bin': 'a', 'ckpt/new.pt': 'written here' });
  });

  it('a mirror pull into the manifest\'s own folder (local: .) is refused before it deletes the manifest and .git (review 41)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: all\n    local: .\n    remote: nas:all\n    mode: pull\n    delete: true\n    max_delete: 100%\n`);
    lab.write(lab.outside('nas/all/a.bin'), 'a').write(lab.path('.git/HEAD'), 'ref: refs/heads/main\n');
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).pairs[0].error).toMatch(/holds the clone's \.git \(\.git\/\), the manifest \(labsync\.yaml\)/);
    expect(lab.tree(lab.path())).toMatchObject({ 'labsync.yaml': expect.any(String), '.git/HEAD': 'ref: refs/heads/main\n' });
  });
});
