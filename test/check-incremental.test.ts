// `check` after a small change (engine/incremental-verify.ts), over ssh against the harness's sshd:
// only the paths whose record changed since the last proof are compared, each read on the side where
// it changed, the other side's hash taken from its cache row under the same stat key. Counted, never
// timed: bytes hashed on each side (verify.bytesHashed), hash cache rows parsed (verify.work.cacheRows:
// the whole-listing comparison parses every row of both caches).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { treeMounts } from '../src/verify/mount-types.js';

interface Verify {
  status: string;
  checked: number;
  missing: string[];
  extra: string[];
  changed: string[];
  mode: string;
  proof?: string;
  bytesHashed: { local: number; remote: number };
  work?: { entries: number; cacheRows: number };
}
interface Checked { exit: number; status: string; error?: string; verify: Verify; stderr: string }

const ssh = inject('sshHost');

/** mount/umount as the harness's sshd sees them (it may run in a mount namespace of its own). */
const inHostNs = (args: string[]): void => void execFileSync('nsenter', ['-t', String(ssh?.pid), '-m', ...args], { stdio: 'ignore' });

/** Whether this machine lets the tests mount a tmpfs where the sshd sees it (root with CAP_SYS_ADMIN, nsenter). */
const canMount = ssh !== null && ((): boolean => {
  const dir = mkdtempSync(join(tmpdir(), 'labsync-mount-'));
  try {
    inHostNs(['mount', '-t', 'tmpfs', 'none', dir]);
    inHostNs(['umount', dir]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

const FILES = 40;
/** Distinct sizes, so a byte count names the files read. */
const size = (i: number): number => 1000 + i;
const old = new Date(Date.now() - 3600_000);
const wait = (): Promise<void> => new Promise((r) => setTimeout(r, 1200));

async function check(lab: Lab): Promise<Checked> {
  const r = await lab.cli(['check', '--json']);
  const p = json<{ pairs: { status: string; error?: string; verify: Verify }[] }>(r).pairs[0] as { status: string; error?: string; verify: Verify };
  return { exit: r.exitCode, status: p.status, ...(p.error ? { error: p.error } : {}), verify: p.verify, stderr: String(r.stderr) };
}

/** What the whole-listing comparison and the incremental one must agree on (not how much they read). */
const verdict = (c: Checked) => {
  const { work: _w, bytesHashed: _b, ...v } = c.verify;
  return { exit: c.exit, status: c.status, verify: v };
};

/** The next check compares the whole listings: the remembered ones no longer digest to the summaries'. */
function forgetListings(lab: Lab): void {
  for (const f of readdirSync(lab.path('.labsync/cache')).filter((n) => n.endsWith('.listing'))) lab.write(lab.path('.labsync/cache', f), 'garbage\0');
}

/** The hash cache file of the tree whose root ends with `root` (the local tree's by default). */
function cacheOf(lab: Lab, root = lab.path('raw')): string {
  const dir = lab.path('.labsync/cache');
  const file = readdirSync(dir).filter((n) => n.endsWith('.hashes')).map((n) => join(dir, n)).find((p) => readFileSync(p, 'utf8').split('\n')[0]?.endsWith(root));
  expect(file).toBeDefined();
  return file as string;
}

/** Every file of the cache folder with its inode and mtime: what a run that writes nothing leaves as it was. */
function cacheFiles(lab: Lab): Record<string, string> {
  const dir = lab.path('.labsync/cache');
  return Object.fromEntries(readdirSync(dir).map((n) => [n, `${statSync(join(dir, n)).ino} ${statSync(join(dir, n)).mtimeMs}`]));
}

/** FILES old files pushed, then proved once past the racy window: a check now reads nothing. */
async function provedLab(manifest: (lab: Lab) => string): Promise<Lab> {
  const lab = new Lab();
  lab.manifest(manifest(lab));
  for (let i = 0; i < FILES; i++) {
    const f = lab.path(`raw/d${i % 4}/f${i}.bin`);
    lab.write(f, 'x'.repeat(size(i)));
    utimesSync(f, old, old);
  }
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  await wait();
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 } });
  return lab;
}

describe.skipIf(!ssh)('check after a small change, over ssh', () => {
  const host = ssh as SshHost;

  const proved = (): Promise<Lab> => provedLab((lab) => sshPairManifest(host, lab, { pair: '    delete: true\n' }));

  /** A file rewritten with other bytes of the same size, its mtime put back (only ctime and maybe inode tell). */
  const corrupt = (path: string): void => {
    const { mtime } = statSync(path);
    writeFileSync(path, 'y'.repeat(statSync(path).size));
    utimesSync(path, mtime, mtime);
  };

  it('a host folder on a file system whose change times prove nothing (its type, as findmnt names it, given in LABSYNC_TEST_UNKEPT_FS: no FUSE mount offline) is read whole by every check, said once (review 50)', async () => {
    const lab = await proved();
    const type = (treeMounts(lab.outside('gpu')) ?? '').split('\t')[0] as string;
    const all = Array.from({ length: FILES }, (_, i) => size(i)).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 2; i++) {
      const r = await lab.cli(['check', '--json'], { env: { LABSYNC_TEST_UNKEPT_FS: type } });
      expect(r.exitCode).toBe(0);
      // The local tree lies on the same file system here: it is read whole too.
      expect(json<{ pairs: { verify: Verify }[] }>(r).pairs[0]?.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: all, remote: all } });
      expect(String(r.stderr)).toContain(`gpu:raw is on ${type} on the host, where a rewrite that keeps a file's size and mtime leaves its stat key as it was`);
    }
    // Named as it is, the same folders are trusted again: nothing read.
    expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 } });
  });

  // Mounting needs CAP_SYS_ADMIN: a machine (a CI container) without it cannot make the inner mount.
  it.skipIf(!canMount)('a file system mounted inside the host folder is named too: a tmpfs there, taken for one whose change times prove nothing (LABSYNC_TEST_UNKEPT_FS=tmpfs), makes the host side read whole (review 53: only the folder\'s own mount was named)', async () => {
    const lab = await proved();
    const inner = lab.outside('gpu/raw/scratch');
    mkdirSync(inner);
    inHostNs(['mount', '-t', 'tmpfs', 'none', inner]);
    try {
      const all = Array.from({ length: FILES }, (_, i) => size(i)).reduce((a, b) => a + b, 0);
      const r = await lab.cli(['check', '--json'], { env: { LABSYNC_TEST_UNKEPT_FS: 'tmpfs' } });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(json<{ pairs: { verify: Verify }[] }>(r).pairs[0]?.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: all } });
      expect(String(r.stderr)).toContain('gpu:raw is on tmpfs on the host, where a rewrite that keeps a file\'s size and mtime leaves its stat key as it was');
    } finally {
      inHostNs(['umount', inner]);
    }
  });

  it('a file changed here is read here only, and drift is reported as the whole comparison reports it', async () => {
    const lab = await proved();
    corrupt(lab.path('raw/d1/f5.bin'));
    const small = await check(lab);
    expect(small).toMatchObject({ exit: 4, status: 'drift', verify: { status: 'drift', checked: FILES, changed: ['d1/f5.bin'], missing: [], extra: [], bytesHashed: { local: size(5), remote: 0 } } });
    // The host's copy came from its cache row, found without loading the cache: one row, not 2 × FILES.
    expect(small.verify.work?.cacheRows).toBe(1);
    forgetListings(lab);
    const whole = await check(lab);
    expect(whole.verify.work?.cacheRows).toBeGreaterThanOrEqual(2 * FILES - 1);
    expect(verdict(small)).toEqual(verdict(whole));
  });

  it('on the host: a same-size same-mtime rewrite, a deletion and a new file; only the rewritten file is read, there', async () => {
    const lab = await proved();
    const at = (p: string): string => lab.outside('gpu/raw', p);
    corrupt(at('d2/f6.bin'));
    rmSync(at('d3/f7.bin'));
    writeFileSync(at('d0/theirs.bin'), 'z'.repeat(77));
    const small = await check(lab);
    expect(small).toMatchObject({ exit: 4, status: 'drift', verify: { changed: ['d2/f6.bin'], missing: ['d3/f7.bin'], extra: ['d0/theirs.bin'], bytesHashed: { local: 0, remote: size(6) } } });
    expect(small.verify.work?.cacheRows).toBe(1);
    expect(small.error).toContain('1 missing on the remote, 1 only on the remote, 1 changed');
    forgetListings(lab);
    expect(verdict(small)).toEqual(verdict(await check(lab)));
  });

  it('a file touched on the host with its bytes unchanged is read there only, and the pair is proved again: then nothing is read', async () => {
    const lab = await proved();
    const f = lab.outside('gpu/raw/d1/f9.bin');
    const { mtime } = statSync(f);
    writeFileSync(f, readFileSync(f));
    utimesSync(f, mtime, mtime);
    await wait(); // past the racy window, so the new key is remembered
    const localCache = cacheOf(lab);
    const before = statSync(localCache);
    const small = await check(lab);
    expect(small).toMatchObject({ exit: 0, status: 'in_sync', verify: { status: 'in_sync', checked: FILES, bytesHashed: { local: 0, remote: size(9) } } });
    // Nothing changed here: the local cache (and summary) stand as they are, not streamed and rewritten.
    expect(statSync(localCache)).toMatchObject({ ino: before.ino, mtimeMs: before.mtimeMs, size: before.size });
    expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } });
  });

  it('the check right after a one-file push compares that file alone; a racy file is hashed again every time it is asked', async () => {
    const lab = await proved();
    // An mtime ahead of the clock keeps the file (and rsync's copy, which gets its mtime) racy for the whole test.
    const f = lab.path('raw/d2/f10.bin');
    lab.write(f, 'n'.repeat(size(10) + 5));
    const ahead = new Date(Date.now() + 3600_000);
    utimesSync(f, ahead, ahead);
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stderr).toBe(0);
    const pushed = cacheFiles(lab);
    for (let round = 0; round < 2; round++) {
      const c = await check(lab);
      expect(c).toMatchObject({ exit: 0, status: 'in_sync', verify: { checked: FILES, bytesHashed: { local: size(10) + 5, remote: size(10) + 5 } } });
      expect(c.verify.work?.cacheRows).toBeLessThanOrEqual(2);
      // Read again with what the push counted, and still racy: no cache, summary or listing is written.
      expect(cacheFiles(lab)).toEqual(pushed);
    }
    // Changed on the host under the racy key's cover (same size; mtime put back): found, not taken from a cache.
    corrupt(lab.outside('gpu/raw/d2/f10.bin'));
    expect(await check(lab)).toMatchObject({ exit: 4, verify: { changed: ['d2/f10.bin'] } });
  });

  /** One file changed here and pushed, each side then left past the racy window: only the host's copy is racy. */
  async function pushedOne(lab: Lab, bytes: number): Promise<void> {
    const f = lab.path('raw/d0/f16.bin');
    lab.write(f, 'p'.repeat(bytes));
    utimesSync(f, old, old);
    await wait();
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stderr).toBe(0);
    await wait();
  }

  it('past the racy window after a push: the copy is read once, its row put into the host cache alone, then nothing is read', async () => {
    const lab = await proved();
    await pushedOne(lab, size(16) + 3);
    const here = statSync(cacheOf(lab));
    const c = await check(lab);
    expect(c).toMatchObject({ exit: 0, status: 'in_sync', verify: { checked: FILES, bytesHashed: { local: 0, remote: size(16) + 3 } } });
    expect(statSync(cacheOf(lab))).toMatchObject({ ino: here.ino, mtimeMs: here.mtimeMs });
    expect(readFileSync(cacheOf(lab, '/gpu/raw'), 'utf8')).toContain(`d0/f16.bin\t${size(16) + 3}\t`);
    expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } });
    forgetListings(lab);
    expect(await check(lab)).toMatchObject({ exit: 0, status: 'in_sync', verify: { checked: FILES, missing: [], extra: [], changed: [] } });
  });

  it('past the racy window, a host cache rewritten since its summary is streamed instead; a damaged one costs the next check the whole comparison', async () => {
    const lab = await proved();
    await pushedOne(lab, size(16) + 3);
    const there = cacheOf(lab, '/gpu/raw');
    // The same rows in a new file (another inode): not the file the summary was written with, yet the same tree.
    writeFileSync(`${there}.copy`, readFileSync(there));
    execFileSync('mv', [`${there}.copy`, there]);
    expect(await check(lab)).toMatchObject({ exit: 0, status: 'in_sync', verify: { bytesHashed: { local: 0, remote: size(16) + 3 } } });
    expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } });

    await pushedOne(lab, size(16) + 4);
    writeFileSync(cacheOf(lab, '/gpu/raw'), 'garbage\n');
    const c = await check(lab);
    expect(c).toMatchObject({ exit: 0, status: 'in_sync', verify: { bytesHashed: { local: 0, remote: size(16) + 4 } } });
    expect(c.verify.work?.cacheRows).toBeLessThanOrEqual(2);
    const whole = await check(lab);
    expect(whole).toMatchObject({ exit: 0, status: 'in_sync' });
    expect(whole.verify.work?.cacheRows).toBeGreaterThanOrEqual(FILES);
  });

  it('past the racy window, a host cache that cannot be rewritten is told once, and the next check compares the whole listings', async () => {
    const lab = await proved();
    await pushedOne(lab, size(16) + 5);
    const there = cacheOf(lab, '/gpu/raw');
    // A folder where the cache file was: neither spliced in place nor streamed (EISDIR, even for root).
    rmSync(there);
    mkdirSync(there);
    const c = await check(lab);
    expect(c).toMatchObject({ exit: 0, status: 'in_sync', verify: { bytesHashed: { local: 0, remote: size(16) + 5 } } });
    expect(c.stderr).toMatch(/could not update the hash cache of .*the next run compares every file/);
    rmSync(there, { recursive: true });
    const whole = await check(lab);
    expect(whole).toMatchObject({ exit: 0, status: 'in_sync', verify: { checked: FILES, missing: [], extra: [], changed: [] } });
    expect(whole.verify.work?.cacheRows).toBeGreaterThanOrEqual(FILES);
  });

  it('a damaged cache row on the unchanged side is not trusted: that side reads the file', async () => {
    const lab = await proved();
    const cache = cacheOf(lab);
    const text = readFileSync(cache, 'utf8');
    writeFileSync(cache, text.replace(`d3/f11.bin\t${size(11)}\t`, 'd3/f11.bin\tbroken\t'));
    corrupt(lab.outside('gpu/raw/d3/f11.bin'));
    expect(await check(lab)).toMatchObject({ exit: 4, verify: { changed: ['d3/f11.bin'], bytesHashed: { local: size(11), remote: size(11) } } });
  });

  it('the push after a change at the destination proves the copy by the transfer and reads neither side', async () => {
    const lab = await proved();
    writeFileSync(lab.outside('gpu/raw/d0/f12.bin'), 'theirs');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const p = json<{ pairs: { status: string; changes: { replace: string[] }; verify: Verify & { provenByTransfer: number } }[] }>(r).pairs[0];
    expect(p).toMatchObject({ status: 'ok', changes: { replace: ['d0/f12.bin'] }, verify: { status: 'in_sync', proof: 'rsync-transfer-checksum', provenByTransfer: 1, bytesHashed: { local: 0, remote: 0 } } });
    expect(readFileSync(lab.outside('gpu/raw/d0/f12.bin'), 'utf8')).toBe('x'.repeat(size(12)));
    expect(execFileSync('sh', ['-c', `cmp '${lab.path('raw/d0/f12.bin')}' '${lab.outside('gpu/raw/d0/f12.bin')}' && echo same`]).toString().trim()).toBe('same');
  });
});

describe('check after a small change, local folders', () => {
  const manifest = `version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n`;

  it('an unchanged pair reads nothing; a change on either side is read on that side only, and judged as the whole comparison judges it', async () => {
    const lab = await provedLab(() => manifest);
    expect((await check(lab)).verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, work: { entries: 0, cacheRows: 0 } });
    const corrupt = (path: string): void => {
      const { mtime } = statSync(path);
      writeFileSync(path, 'y'.repeat(statSync(path).size));
      utimesSync(path, mtime, mtime);
    };
    corrupt(lab.outside('nas/raw/d1/f13.bin'));
    corrupt(lab.path('raw/d2/f14.bin'));
    rmSync(lab.outside('nas/raw/d3/f15.bin'));
    const small = await check(lab);
    expect(small).toMatchObject({ exit: 4, status: 'drift', verify: { changed: ['d1/f13.bin', 'd2/f14.bin'], missing: ['d3/f15.bin'], extra: [], bytesHashed: { local: size(14), remote: size(13) } } });
    expect(small.verify.work?.cacheRows).toBe(2);
    forgetListings(lab);
    const whole = await check(lab);
    expect(whole.verify.work?.cacheRows).toBeGreaterThanOrEqual(2 * FILES - 2);
    expect(verdict(small)).toEqual(verdict(whole));
  });

  it('past the cut-over (more changed records than max(256, files ÷ 20)) compares the whole listings', async () => {
    const lab = new Lab().manifest(manifest);
    const n = 300;
    for (let i = 0; i < n; i++) {
      const f = lab.path(`raw/d${i % 3}/g${i}`);
      lab.write(f, `${i}`);
      utimesSync(f, old, old);
    }
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    await wait();
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    for (let i = 0; i < n; i++) lab.write(lab.outside(`nas/raw/d${i % 3}/g${i}`), `${i}`); // same bytes, new ctimes: 300 changed records
    lab.write(lab.outside('nas/raw/d0/g0'), 'X');
    const c = await check(lab);
    expect(c).toMatchObject({ exit: 4, verify: { changed: ['d0/g0'], bytesHashed: { local: 0 } } });
    expect(c.verify.bytesHashed.remote).toBeGreaterThanOrEqual(n);
    expect(c.verify.work?.cacheRows).toBeGreaterThanOrEqual(2 * n - 1); // both caches loaded: the whole comparison
  });
});
