import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_PROBE, hashScript, INNER_MOUNTS, listScript, parseRemoteHashes, parseRemoteListing } from './remote.js';
import { shQuote } from './ssh.js';
import { tempDirs } from '../../temp-dirs.fixture.js';

const tempDir = tempDirs();

/** Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN). */
const canMount = ((): boolean => {
  const dir = tempDir('labsync-mount-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', 'none', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../fixtures/tool-output/findutils-4.9.0/${name}`, import.meta.url));
const EXCLUDES = ['*.tmp', '/skip/', '/.labsync-backup/', '/.rsync-partial/'];

describe('listing and hashing on an ssh host (recorded GNU find 4.9.0, coreutils 9.1)', () => {
  it('reads find -printf: regular files only, excludes applied, names with spaces, quotes and newlines intact', () => {
    const l = parseRemoteListing(fixture('list-remote.out'), EXCLUDES);
    if (!('paths' in l)) throw new Error('expected a listing');
    expect(l.paths).toEqual(['-dash', 'a', "quote'd", 'sub/new\nline', 'with space/b c']);
    expect(l.nowMs).toBeGreaterThan(1.7e12);
    const a = l.paths.indexOf('a');
    // size, then the mtime exactly as node's Stats.mtimeMs reads 2026-01-02 03:04:05.123456789 UTC.
    expect(l.keys[a * 4]).toBe(1);
    expect(l.keys[a * 4 + 1]).toBe(1767323045000 + 123456789 / 1e6);
  });

  it('reads a listing and the hashes taken in the same connection (after a transfer)', () => {
    const l = parseRemoteListing(fixture('list-and-hash.out'), EXCLUDES);
    if (!('paths' in l)) throw new Error('expected a listing');
    expect(l.paths).toEqual(['-dash', 'a', "quote'd", 'sub/new\nline', 'with space/b c']);
    expect([...(l.hashes?.keys.keys() ?? [])].sort()).toEqual(['a', 'with space/b c']);
    expect(l.hashes?.sha256.get('a')).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    // With hashes too, the files are parsed on first use only: a run after a small change compares bytes.
    const lazy = parseRemoteListing(fixture('list-and-hash.out'), EXCLUDES);
    expect(typeof Object.getOwnPropertyDescriptor(lazy, 'paths')?.get).toBe('function');
    expect(listScript('/x', [], true)).toMatch(/; find .*; printf 'labsync-end\\0'; .*exec xargs -0/);
  });

  it('digests a listing taken with hashes as the same listing alone (a tree summary still recognises it)', () => {
    const alone = parseRemoteListing(fixture('list-remote.out'), EXCLUDES);
    const listed = fixture('list-remote.out');
    const withHashes = parseRemoteListing(Buffer.concat([listed, Buffer.from('labsync-end\0'), fixture('hash-remote.out')]), EXCLUDES);
    if (!('paths' in alone) || !('paths' in withHashes)) throw new Error('expected listings');
    expect(withHashes.rawDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(withHashes.rawDigest).toBe(alone.rawDigest);
    expect(withHashes.hashes?.sha256.get('a')).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    // Other excludes, another digest: a summary is never taken across a change of excludes.
    expect((parseRemoteListing(listed, []) as { rawDigest?: string }).rawDigest).not.toBe(alone.rawDigest);
  });

  it('a symlink marked in the same walk leaves the folder to rsync\'s own listing (no second walk on the host)', () => {
    const listed = fixture('list-remote.out');
    expect(parseRemoteListing(Buffer.concat([listed, Buffer.from('l\0')]), EXCLUDES)).toEqual({ unsupported: 'the folder holds symlinks' });
    const script = listScript('/srv/x', []);
    expect(script).toContain("'-o' '-type' 'l' '-printf' 'l\\0'");
    expect(script).not.toContain('-type l -print -quit');
    // Held sessions ask whether find is GNU find before their go line: the listing only reads the answer.
    expect(listScript('/srv/x', [], false, true)).not.toContain('find / -maxdepth 0');
  });

  it('a listing find could not finish (exit 1: a folder it may not read) is refused, alone or followed by hashes', () => {
    const listed = fixture('list-remote.out');
    const failed = Buffer.concat([listed, Buffer.from('!labsync-find-failed 1\0')]);
    expect(parseRemoteListing(failed, EXCLUDES)).toMatchObject({ unsupported: expect.stringMatching(/find could not list the whole folder .*exit 1/) });
    // A name that is not UTF-8 (Latin-1 "café"): left to rsync's own listing, which keeps names as bytes.
    const latin1 = Buffer.concat([listed, Buffer.from('4 1767323045.1 1767323045.1 77 caf'), Buffer.from([0xe9, 0])]);
    expect(parseRemoteListing(latin1, EXCLUDES)).toEqual({ unsupported: 'a file name on the host is not valid UTF-8' });
    // A path holding the record's text is a path: find's records start with their size.
    expect('paths' in parseRemoteListing(listed, EXCLUDES)).toBe(true);
    // The script says so and keeps find's exit code, also where the hash part follows it.
    for (const script of [listScript('/srv/x', []), listScript('/srv/x', [], true)]) expect(script).toContain(`lsr=$?; [ "$lsr" = 0 ] || { printf '!labsync-find-failed %s\\0' "$lsr"; exit "$lsr"; }`);
    const dir = tempDir('labsync-find-fails-');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'f'), 'f');
    // A real find that fails: a starting point that is not there, under the same script.
    const run = spawnSync('sh', ['-c', listScript(dir, []).replace("find '.'", "find '.' ./gone")], { encoding: 'buffer' });
    expect(run.status).toBe(1);
    expect(parseRemoteListing(run.stdout, [])).toHaveProperty('unsupported');
  });

  it('reads the host\'s clock from bash\'s EPOCHREALTIME, or from date under any other sh', () => {
    const dir = tempDir('labsync-clock-');
    writeFileSync(join(dir, 'f'), 'x');
    for (const shell of ['sh', 'bash']) {
      const out = spawnSync(shell, ['-c', listScript(dir, [])]).stdout;
      const l = parseRemoteListing(out, []);
      if (!('paths' in l)) throw new Error(`expected a listing from ${shell}`);
      expect(l.paths).toEqual(['f']);
      expect(Math.abs(l.nowMs - Date.now())).toBeLessThan(60_000);
    }
    // A decimal comma (bash in a locale that writes one) is not a clock this parser reads: date answers then.
    expect(listScript(dir, [])).toContain("case $lsc in ''|*[!0-9.]*) lsc=$(date +%s.%N");
  });

  it('names the folder\'s file system in its header: findmnt\'s name (the last of mounts stacked on its point: review 52) and the magic number statfs gives (review 53)', () => {
    const dir = tempDir('labsync-fstype-');
    writeFileSync(join(dir, 'f'), 'x');
    const bin = tempDir('labsync-fakebin-');
    const run = (findmnt: string, stat?: string): string | undefined => {
      writeFileSync(join(bin, 'findmnt'), `#!/bin/sh\n${findmnt}\n`, { mode: 0o755 });
      if (stat) writeFileSync(join(bin, 'stat'), `#!/bin/sh\n${stat}\n`, { mode: 0o755 });
      const l = parseRemoteListing(spawnSync('sh', ['-c', listScript(dir, [])], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).stdout, []);
      return 'paths' in l ? (l.fsType ?? '') : undefined;
    };
    // The folder's magic here, as GNU stat prints it.
    const magic = spawnSync('stat', ['-f', '-c', '%t', dir]).stdout.toString().trim();
    expect(magic).toMatch(/^[0-9a-f]+$/);
    expect(run("printf 'autofs\\nfuse.sshfs\\n'")).toBe(`fuse.sshfs@${magic}`);
    expect(run('exit 1')).toBe(`@${magic}`);
    expect(run("printf 'odd type\\n'")).toBe(`@${magic}`);
    // A BSD stat reads `-f -c` as the format `-c`; a stat that names no type in hex says nothing: no type at all.
    expect(run('exit 1', "echo '-c'")).toBe('');
    expect(run('exit 1', 'echo UNKNOWN')).toBe('');
    expect(run("echo 'fuse.sshfs'", 'exit 1')).toBe('fuse.sshfs');
  });

  // Mounting needs CAP_SYS_ADMIN: a machine (a CI container) without it cannot make the inner mounts.
  it.skipIf(!canMount)('names the mounts inside the folder from the kernel\'s mount table, under a path with a space and a non-ASCII name too (review 54: findmnt wrote them as \\xNN, and they went unseen)', () => {
    for (const name of ['plain', 'my données']) {
      const dir = join(tempDir('labsync-inner-'), name);
      mkdirSync(join(dir, 'data', 'deep'), { recursive: true });
      mkdirSync(join(dir, 'other'));
      writeFileSync(join(dir, 'f'), 'x');
      execFileSync('mount', ['-t', 'tmpfs', 'none', join(dir, 'data')]);
      try {
        mkdirSync(join(dir, 'data', 'deep'));
        execFileSync('mount', ['-t', 'ramfs', 'none', join(dir, 'data', 'deep')]);
        try {
          for (const shell of ['sh', 'bash']) {
            const l = parseRemoteListing(spawnSync(shell, ['-c', listScript(dir, [])]).stdout, []);
            if (!('paths' in l)) throw new Error(`expected a listing from ${shell}`);
            // Its own mount first (name@magic), then each mount inside it, in the table's order.
            expect(l.fsType, `${name} under ${shell}`).toMatch(/^[^+]*@[0-9a-f]+\+tmpfs\+ramfs$/);
          }
        } finally {
          execFileSync('umount', [join(dir, 'data', 'deep')]);
        }
      } finally {
        execFileSync('umount', [join(dir, 'data')]);
      }
    }
  });

  it('names the mounts inside the folder from a mount table: strictly inside, escapes undone, a FUSE type with an odd name as fuse, other odd names left out (runs without mounting anything)', () => {
    const dir = tempDir('labsync-mountinfo-');
    const table = join(dir, 'mountinfo');
    writeFileSync(table, [
      '22 1 8:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '30 22 0:25 / /data rw shared:2 master:3 - ext4 /dev/vdb rw',
      '31 30 0:26 / /data/in rw - fuse.sshfs host: rw',
      '32 22 0:27 / /data2/x rw - nfs4 host: rw',
      '33 30 0:28 / /data/my\\040dir/m rw - tmpfs none rw',
      '34 30 0:29 / /data/odd rw - fuse.my\\040fs x rw',
      '35 30 0:30 / /data/weird rw - we"ird x rw',
      '36 30 0:31 / /données/m rw - ramfs none rw',
      '',
    ].join('\n'));
    const inner = (folder: string): string => spawnSync('awk', [INNER_MOUNTS, table], { env: { ...process.env, lsd: folder } }).stdout.toString();
    expect(inner('/data')).toBe('+fuse.sshfs+tmpfs+fuse');
    expect(inner('/data/my dir')).toBe('+tmpfs');
    expect(inner('/data2')).toBe('+nfs4');
    expect(inner('/dat')).toBe('');
    expect(inner('/données')).toBe('+ramfs');
    expect(inner('/')).toBe('+ext4+fuse.sshfs+nfs4+tmpfs+fuse+ramfs');
  });

  it('says when the folder is not there', () => {
    expect(parseRemoteListing(fixture('list-nodir.out'), [])).toEqual({ missing: true });
  });

  it('reads stat and sha256sum -z records: keys equal to find\'s, links, folders and vanished paths left out', () => {
    const h = parseRemoteHashes(fixture('hash-remote.out'));
    if (!('keys' in h)) throw new Error('expected hashes');
    expect([...h.keys.keys()].sort()).toEqual(['-dash', 'a', "quote'd", 'sub/new\nline']);
    expect(h.sha256.get('a')).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    expect(h.sha256.get('sub/new\nline')).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
    const l = parseRemoteListing(fixture('list-remote.out'), EXCLUDES);
    if (!('paths' in l)) throw new Error('expected a listing');
    const at = l.paths.indexOf('a');
    expect(h.keys.get('a')).toEqual([...l.keys.subarray(at * 4, at * 4 + 4)]);
  });

  it('a held session hashes with one find (-files0-from) where the host has it: the same keys and sums as stat and sha256sum give', () => {
    const dir = tempDir('labsync-hashfind-');
    for (const [name, text] of [['a', 'a'], ['-dash', 'd'], ["quote'd", 'q'], ['sub/new\nline', 'n']] as const) {
      mkdirSync(join(dir, 'sub'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    // (A symlink in the folder would leave it to rsync's listing: the listing's test covers that.)
    const asked = ['a', '-dash', "quote'd", 'sub/new\nline', 'sub', 'gone'].map((p) => `${p}\0`).join('');
    // As held.ts runs it: the probe before, then the listing and the hashes of the paths on stdin.
    const run = (set: string, env?: NodeJS.ProcessEnv): ReturnType<typeof parseRemoteListing> =>
      parseRemoteListing(spawnSync('/bin/sh', ['-c', `${HOST_PROBE}\n${set}( ${listScript(dir, [], true, true)} )`], { input: asked, ...(env ? { env } : {}) }).stdout, []);
    const viaFind = run('');
    const viaXargs = run('lsf=1\n');
    // A host whose PATH has GNU find but no sha256sum.
    const bin = tempDir('labsync-nosum-');
    for (const tool of ['find', 'head', 'stat', 'xargs', 'date']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    const noSum = run('', { PATH: bin });
    if (!('hashes' in viaFind) || !viaFind.hashes || !('hashes' in viaXargs) || !viaXargs.hashes) throw new Error('expected hashes both ways');
    expect([...viaFind.hashes.keys.keys()].sort()).toEqual(['-dash', 'a', "quote'd", 'sub/new\nline']);
    expect([...viaFind.hashes.keys.entries()].sort()).toEqual([...viaXargs.hashes.keys.entries()].sort());
    expect([...viaFind.hashes.sha256.entries()].sort()).toEqual([...viaXargs.hashes.sha256.entries()].sort());
    expect(viaFind.hashes.sha256.get('a')).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    // The listing's own key of a file is the hash step's key of it.
    if (!('paths' in viaFind)) throw new Error('expected a listing');
    const at = viaFind.paths.indexOf('a');
    expect(viaFind.hashes.keys.get('a')).toEqual([...viaFind.keys.subarray(at * 4, at * 4 + 4)]);
    // No sha256sum: the host says so (the listing still comes) and the engine falls back.
    if (!('paths' in noSum)) throw new Error('expected the listing without sha256sum');
    expect(noSum.hashes).toBeUndefined();
    expect(noSum.paths.length).toBe(4);
  });

  it('says when the host lacks GNU find or sha256sum, and fails loudly on anything else', () => {
    expect(parseRemoteListing(Buffer.from('labsync nofind\n'), [])).toMatchObject({ unsupported: expect.stringMatching(/GNU find/) });
    expect(parseRemoteHashes(Buffer.from('labsync nosum\n'))).toMatchObject({ unsupported: expect.stringMatching(/sha256sum/) });
    expect(() => parseRemoteListing(Buffer.from('Welcome to the host!\n'), [])).toThrow(/unexpected answer/);
  });

  it('quotes every path and pattern for the host\'s shell', () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(listScript("/srv/it's", ['*.tmp'])).toContain(`cd -- '/srv/it'\\''s'`);
    expect(hashScript('/srv/x')).toContain('xargs -0 -r sh -c');
  });
});
