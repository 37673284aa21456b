// The verifier: sums/check --sums against coreutils, the hash cache's invalidation, symlinks, and
// `labsync check` against local folders, an ssh host and S3.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { BIN, json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import type { SshHost } from './harness/sshd.js';

const AWKWARD = ['plain.csv', 'with space.csv', 'back\\slash', 'new\nline', 'cr\rreturn', '-leading-dash', 'ünïcödé ✓', '.hidden', 'sub dir/deep/file.bin'];

async function coreutils(tool: 'sha256sum' | 'md5sum', dir: string): Promise<string> {
  const r = await execa('sh', ['-c', `find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 ${tool} --`], { cwd: dir });
  return `${r.stdout}\n`;
}

function tree(lab: Lab): string {
  for (const n of AWKWARD) lab.write(lab.path('tree', n), `content of ${n}\n`);
  lab.write(lab.path('tree/big.bin'), randomBytes(3 * 1024 * 1024));
  for (let i = 0; i < 80; i++) lab.write(lab.path('tree/many', `f${i}`), randomBytes(500));
  return lab.path('tree');
}

describe('sums and check --sums', () => {
  it('prints exactly what sha256sum and md5sum print, escapes and all, sorted by path', async () => {
    const lab = new Lab();
    const dir = tree(lab);
    const sha = await lab.cli(['sums', dir]);
    expect(sha.exitCode).toBe(0);
    expect(`${sha.stdout}\n`).toBe(await coreutils('sha256sum', dir));
    expect(`${(await lab.cli(['sums', '--algo', 'md5', dir])).stdout}\n`).toBe(await coreutils('md5sum', dir));
    expect((await lab.cli(['sums', '--algo', 'sha1', dir])).exitCode).toBe(2);
    expect((await lab.cli(['sums', lab.path('nope')])).exitCode).toBe(2);
  });

  it('check --sums passes a clean tree and flags a modified and a missing file (exit 4), like sha256sum -c', async () => {
    const lab = new Lab();
    const dir = tree(lab);
    const list = lab.outside('list.sha256');
    writeFileSync(list, `${(await lab.cli(['sums', dir])).stdout}\n`);
    const clean = await lab.cli(['check', '--sums', list, '--dir', dir]);
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout.split('\n').every((l) => l.endsWith(': OK'))).toBe(true);
    writeFileSync(lab.path('tree/plain.csv'), 'tampered\n');
    unlinkSync(lab.path('tree/-leading-dash'));
    const r = await lab.cli(['check', '--sums', list, '--dir', dir]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toContain('plain.csv: FAILED\n');
    expect(r.stdout).toContain('-leading-dash: FAILED open or read');
    expect(r.stdout).toContain('\\new\\nline: OK');
    expect(r.stderr).toContain('WARNING: 1 computed checksum did NOT match');
    const sha = await execa('sha256sum', ['-c', list], { cwd: dir, reject: false });
    expect(r.stdout.split('\n').filter((l) => !l.endsWith(': OK')).sort()).toEqual(String(sha.stdout).split('\n').filter((l) => !l.endsWith(': OK')).sort());
    expect((await lab.cli(['check', '--sums', lab.outside('none.sha256')])).exitCode).toBe(2);
  });

  it('check --sums reads every list sha256sum -c and md5sum -c read: CRLF, comments, --tag, BSD forms', async () => {
    const lab = new Lab();
    const dir = tree(lab);
    const tagged = async (tool: string): Promise<string> => String((await execa('sh', ['-c', `find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 ${tool} --tag --`], { cwd: dir })).stdout);
    const sha = (await lab.cli(['sums', dir])).stdout.split('\n');
    const lists = {
      'crlf.sha256': `# written on Windows\r\n\r\n${sha.join('\r\n')}\r\n`,
      'tag.sha256': `${await tagged('sha256sum')}\n`,
      'tag.md5': `${await tagged('md5sum')}\n`,
      'bsd.sha256': `${sha.filter((l) => !l.startsWith('\\')).map((l) => l.replace('  ', ' ')).join('\n')}\n`,
      'blanks.sha256': `  ${sha.slice(0, 3).map((l) => l.replace('  ', '\t*')).join('\n\n')}\n`,
    };
    for (const [name, text] of Object.entries(lists)) {
      const list = lab.outside(name);
      writeFileSync(list, text);
      const tool = name.endsWith('md5') ? 'md5sum' : 'sha256sum';
      const ours = await lab.cli(['check', '--sums', list, '--dir', dir]);
      const theirs = await execa(tool, ['-c', list], { cwd: dir, reject: false });
      expect(theirs.exitCode, `${tool} -c ${name}`).toBe(0);
      expect(ours.exitCode, `${name}: ${ours.stderr}`).toBe(0);
      expect(`${ours.stdout}\n`, name).toBe(`${theirs.stdout}\n`);
    }
    // "-" reads the list from standard input, as `sha256sum -c -` does.
    const piped = await lab.cli(['check', '--sums', '-', '--dir', dir], { input: lists['tag.sha256'] });
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stdout.split('\n')).toHaveLength(sha.length);
  });

  it('stops quietly, exit 0, when its reader goes away (sums | head -1), rather than crashing with EPIPE', async () => {
    const lab = new Lab();
    // More output than a pipe holds (64 KiB), so the write meets the closed pipe.
    for (let i = 0; i < 1500; i++) lab.write(lab.path('tree', `file-${i}.txt`), `${i}\n`);
    const r = await execa('bash', ['-c', 'set -o pipefail; node "$1" sums "$2" | head -1', '_', BIN, lab.path('tree')], { env: lab.env, reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64} {2}file-0\.txt$/);
  });

  it('never follows symlinks: a loop and a link out of the tree are left alone', async () => {
    const lab = new Lab();
    lab.write(lab.path('tree/a'), 'a');
    symlinkSync('.', lab.path('tree/loop'));
    symlinkSync('/etc', lab.path('tree/escape'));
    const r = await lab.cli(['sums', lab.path('tree')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(1);
  });
});

describe('the hash cache', () => {
  it('answers an unchanged file from stat alone, and is not trusted after a touch, a rewrite or an inode change', async () => {
    const lab = new Lab().manifest('version: 1\n');
    for (const n of ['touched', 'rewritten', 'replaced', 'steady']) lab.write(lab.path('tree', n), `${n}\n`);
    await new Promise((r) => setTimeout(r, 1200)); // older than the racy window, so they are remembered
    const first = (await lab.cli(['sums', 'tree'])).stdout;
    const [cacheFile] = readdirSync(lab.path('.labsync/cache'));
    const path = lab.path('.labsync/cache', cacheFile as string);
    const fake = 'f'.repeat(64);
    // One line a file after the header: path, size, mtimeMs, ctimeMs, ino, sha256, … (tab-separated).
    const [header, ...rows] = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(header).toMatch(/^labsync-hashes\t3\t/);
    writeFileSync(path, `${[header, ...rows.map((l) => l.split('\t').map((f, i) => (i === 5 ? fake : f)).join('\t'))].join('\n')}\n`);

    const t = statSync(lab.path('tree/rewritten')).mtime;
    utimesSync(lab.path('tree/touched'), new Date(), new Date());
    writeFileSync(lab.path('tree/rewritten'), 'REWRITTEN\n'.slice(0, 10));
    utimesSync(lab.path('tree/rewritten'), t, t);
    copyFileSync(lab.path('tree/replaced'), lab.outside('copy'));
    const rt = statSync(lab.path('tree/replaced')).mtime;
    utimesSync(lab.outside('copy'), rt, rt);
    renameSync(lab.outside('copy'), lab.path('tree/replaced'));

    const lines = Object.fromEntries((await lab.cli(['sums', 'tree'])).stdout.split('\n').map((l) => [l.slice(66), l.slice(0, 64)]));
    expect(lines.steady).toBe(fake);
    for (const n of ['touched', 'rewritten', 'replaced']) expect(lines[n], n).not.toBe(fake);
    expect(lines.touched).toBe(first.split('\n').find((l) => l.endsWith('  touched'))?.slice(0, 64));
  });

  it('a damaged cache costs a re-hash, never a wrong answer', async () => {
    const lab = new Lab().manifest('version: 1\n');
    lab.write(lab.path('tree/a'), 'a\n');
    await new Promise((r) => setTimeout(r, 1200));
    const good = (await lab.cli(['sums', 'tree'])).stdout;
    const [cacheFile] = readdirSync(lab.path('.labsync/cache'));
    writeFileSync(lab.path('.labsync/cache', cacheFile as string), '{"version": 2, "ro');
    expect((await lab.cli(['sums', 'tree'])).stdout).toBe(good);
  });
});

/** Flips a file's first byte, keeping its size and mtime: only a content comparison can tell. */
function flip(file: string): void {
  const { mtime } = statSync(file);
  const bytes = readFileSync(file);
  bytes[0] = (bytes[0] as number) ^ 0xff;
  writeFileSync(file, bytes);
  utimesSync(file, mtime, mtime);
}

describe('a hash cache that cannot be saved', () => {
  it('only warns, once: sums still prints its list, check still answers, nothing is lost', async () => {
    const lab = new Lab().manifest(`version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n`);
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `f${i}`), randomBytes(1000));
    expect((await lab.cli(['data', 'push', '--no-verify'])).exitCode).toBe(0);
    // A file where the cache folder should be: as a read-only checkout or a full disk, writing fails.
    rmSync(lab.path('.labsync/cache'), { recursive: true, force: true });
    writeFileSync(lab.path('.labsync/cache'), '');
    await new Promise((r) => setTimeout(r, 1200)); // older than the racy window, so labsync tries to remember them

    const sums = await lab.cli(['sums', 'raw']);
    expect(sums.exitCode).toBe(0);
    expect(`${sums.stdout}\n`).toBe(await coreutils('sha256sum', lab.path('raw')));
    expect(sums.stderr).toMatch(/^labsync: warning: could not save hashes under \S+\/\.labsync\/cache \(EEXIST[^\n]*$/);

    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(0);
    expect(json<CheckDoc>(check).pairs[0]).toMatchObject({ status: 'in_sync', verify: { checked: 5 } });
    expect(check.stderr.match(/could not save hashes/g)).toHaveLength(1); // two trees, two caches: one warning
    flip(lab.outside('nas/raw/f1'));
    const drift = await lab.cli(['check', '--json']);
    expect(drift.exitCode).toBe(4);
    expect(json<CheckDoc>(drift).pairs[0]?.verify.changed).toEqual(['f1']);
    // A file changed just now is racy: the tree is not summed up, and its old summary is removed (here: none to remove).
    for (const side of [lab.path('raw/new'), lab.outside('nas/raw/new')]) lab.write(side, 'new\n');
    const racy = await lab.cli(['check', '--json']);
    expect(racy.exitCode, racy.stderr).toBe(4);
    expect(json<CheckDoc>(racy).pairs[0]?.verify.changed).toEqual(['f1']);
    expect(readFileSync(lab.path('.labsync/cache'), 'utf8')).toBe(''); // left as it was
  });
});

interface CheckDoc { command: string; ok: boolean; pairs: { name: string; status: string; verify: { status: string; checked: number; missing: string[]; extra: string[]; changed: string[] } }[] }

describe('labsync check', () => {

  it('local folders: in sync is 0; a same-size same-mtime flip, a missing and an extra file are drift (4), named', async () => {
    const lab = new Lab().manifest(`version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n`);
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `f${i}`), randomBytes(1000));
    await lab.cli(['data', 'push']);
    const ok = await lab.cli(['check', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(json<CheckDoc>(ok)).toMatchObject({ command: 'check', ok: true, pairs: [{ name: 'raw', status: 'in_sync', verify: { checked: 5 } }] });
    flip(lab.outside('nas/raw/f2'));
    unlinkSync(lab.outside('nas/raw/f3'));
    lab.write(lab.outside('nas/raw/stray'), 'x');
    const r = await lab.cli(['check', 'data', 'raw', '--json']);
    expect(r.exitCode).toBe(4);
    expect(json<CheckDoc>(r).pairs[0]).toMatchObject({ status: 'drift', verify: { missing: ['f3'], extra: ['stray'], changed: ['f2'] } });
    const human = await lab.cli(['check']);
    expect(human.stdout + human.stderr).toMatch(/raw.*drift.*1 missing on the remote, 1 only on the remote, 1 changed/);
    expect((await lab.cli(['check', 'nosuchpair'])).exitCode).toBe(2);
  });

  // null only off CI on a machine without sshd (global-setup fails a CI run instead): these cases then skip.
  const ssh = inject('sshHost');
  it.skipIf(!ssh)('an ssh host: checksums computed there catch a flipped byte', async () => {
    const host = ssh as SshHost;
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  gpu: { type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${host.port}, identity: ${host.identity}, known_hosts: ${host.knownHosts}, ssh_config: ${host.sshConfig}, path: ${lab.outside('remote')} }\nmodels:\n  - name: ckpt\n    local: ckpt\n    remote: gpu:ckpt\n`);
    lab.write(lab.path('ckpt/a.bin'), randomBytes(5000));
    await lab.cli(['models', 'push']);
    expect((await lab.cli(['check'])).exitCode).toBe(0);
    flip(lab.outside('remote/ckpt/a.bin'));
    const r = await lab.cli(['check', '--json']);
    expect(r.exitCode).toBe(4);
    expect(json<CheckDoc>(r).pairs[0]?.verify.changed).toEqual(['a.bin']);
  });

  const s3 = inject('s3');
  it.skipIf(!s3)('S3: ETags against local MD5s, without downloading, catch a same-size replacement', async () => {
    const server = s3 as S3Server;
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(`version: 1\nremotes:\n  store: { type: s3, bucket: ${bucket}, prefix: p, region: us-east-1, endpoint: "${server.endpoint}" }\ndata:\n  - name: raw\n    local: raw\n    remote: store:raw\n`);
    lab.write(lab.path('raw/a.bin'), randomBytes(4000)).write(lab.path('raw/big.bin'), randomBytes(9 * 1024 * 1024));
    await lab.cli(['data', 'push'], { env: S3_KEYS });
    expect((await lab.cli(['check'], { env: S3_KEYS })).exitCode).toBe(0);
    writeFileSync(lab.outside('other'), randomBytes(4000));
    await awsCli(server, lab.env, ['s3', 'cp', lab.outside('other'), `s3://${bucket}/p/raw/a.bin`]);
    const r = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(r.exitCode).toBe(4);
    expect(json<CheckDoc>(r).pairs[0]?.verify.changed).toEqual(['a.bin']);
    expect(json<CheckDoc>(r).pairs[0]?.verify.checked).toBe(2);
  });
});
