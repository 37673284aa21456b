// A run after a small change does the change's work (issue 12, item 6, engine/incremental.ts): with both
// sides last proved equal, only the records that differ from the remembered listings are planned, only
// those files are hashed (on each side), and the caches and summaries are updated in place, while every
// guarantee holds. Counted, never timed: bytes hashed, entries built, cache rows parsed or made.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

interface Pair {
  status: string;
  error?: string;
  changes?: { transfer: string[]; replace: string[]; delete: string[] };
  verify: { status: string; checked: number; proof?: string; bytesHashed?: { local: number; remote: number }; work?: { entries: number; cacheRows: number } } | null;
}

const FILES = 40;
const old = new Date(Date.now() - 3600_000);
const wait = (): Promise<void> => new Promise((r) => setTimeout(r, 1200));
/** Past the source's margin after its listing (listing-after.ts): what was made before is not looked at again after a transfer. */
const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 2100));

const local = (extra = ''): string => `version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n${extra}`;

/** A tree of FILES old files pushed, then proved (summed up once past the racy window). */
async function proved(lab: Lab, verb = 'push'): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    const f = lab.path(`raw/d${i % 4}/f${i}.csv`);
    lab.write(f, `row ${i}\n`);
    utimesSync(f, old, old);
  }
  expect((await lab.cli(['data', verb, '-q'])).exitCode).toBe(0);
  await wait();
  expect((await lab.cli(['data', verb, '-q'])).exitCode).toBe(0);
}

async function run(lab: Lab, args = ['data', 'push']): Promise<Pair> {
  const r = await lab.cli([...args, '--json']);
  const p = json<{ pairs: Pair[] }>(r).pairs[0] as Pair;
  return { ...p, exit: r.exitCode } as Pair;
}

/** The receipt's sums digest must be what `labsync sums` of the tree gives. */
async function sumsAgree(lab: Lab, tree: string): Promise<void> {
  const names = readdirSync(lab.path('.labsync/receipts')).sort();
  const receipt = JSON.parse(readFileSync(lab.path('.labsync/receipts', names[names.length - 1] as string), 'utf8')) as { sumsDigest: string; sumsFiles: number };
  const sums = await lab.cli(['sums', tree]);
  expect(sums.exitCode).toBe(0);
  expect(receipt.sumsDigest).toBe(createHash('sha256').update(`${sums.stdout}\n`).digest('hex'));
}

/** A PATH whose rsync runs `after` once, right after the transfer of a file list (as rsync-transfer-proof.test.ts does). */
function rsyncThen(after: string): Record<string, string> {
  const dir = tempDir('labsync-rsync-then-');
  const real = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
  const script = join(dir, 'rsync');
  writeFileSync(script, `#!/bin/sh\n"${real}" "$@"\nrc=$?\ncase " $* " in *" --files-from=- "*) if [ ! -e "${dir}/done" ]; then : > "${dir}/done"; ${after}; fi ;; esac\nexit $rc\n`);
  chmodSync(script, 0o755);
  return { PATH: `${dir}:${process.env.PATH ?? ''}` };
}

/**
 * Every tree summary's content digest is the one its hash cache and racy rows sum up to (as
 * tree-summary.ts contentDigest makes it), and the pair's two summaries agree: the far side's digest
 * may be taken from the near side's without streaming its cache (incremental-remember.ts implied).
 */
function summariesTrue(lab: Lab): void {
  const dir = lab.path('.labsync/cache');
  const digests = readdirSync(dir).filter((f) => f.endsWith('.tree.json')).map((f) => {
    const summary = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { sha256: string; files: number; racy?: { path: string; size: number; sha256: string }[] };
    const rows = new Map<string, string>();
    for (const line of readFileSync(join(dir, f.replace(/\.tree\.json$/, '.hashes')), 'utf8').split('\n').slice(1)) {
      const c = line.split('\t');
      if (c.length > 5) rows.set(c[0] as string, `${c[1]}\0${c[5]}`);
    }
    for (const r of summary.racy ?? []) rows.set(r.path, `${r.size}\0${r.sha256}`);
    const h = createHash('sha256');
    for (const p of [...rows.keys()].sort()) h.update(`${p}\0${rows.get(p)}\n`);
    expect(summary.files).toBe(rows.size);
    expect(summary.sha256).toBe(h.digest('hex'));
    return summary.sha256;
  });
  expect(digests).toHaveLength(2);
  expect(digests[0]).toBe(digests[1]);
}

describe('a local pair after a small change', () => {
  it('keeps both summaries true to their caches over successive small changes (the far one only spliced)', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    for (const [i, body] of ['row 3, now longer\n', 'r7\n', 'row 3 again\n'].entries()) {
      lab.write(lab.path(`raw/d${[3, 3, 3][i]}/f${[3, 7, 3][i]}.csv`), body);
      await wait();
      expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      summariesTrue(lab);
    }
    await wait();
    expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    summariesTrue(lab);
    expect((await run(lab, ['check', '--full'])).verify).toMatchObject({ status: 'in_sync' });
  });

  it('puts in place the source\'s cache rewrite made while the listings after the transfer ran, the same as one made after the verify', async () => {
    const labs = [new Lab().manifest(local()), new Lab().manifest(local())];
    for (const lab of labs) await proved(lab);
    // Each side's summary (its digests, files and racy rows) and cache rows (path, size, sha256), by side.
    const remembered = (lab: Lab): Record<string, unknown> => Object.fromEntries(readdirSync(lab.path('.labsync/cache')).filter((f) => f.endsWith('.tree.json')).map((f) => {
      const { root, sha256, files, sums, racy } = JSON.parse(readFileSync(lab.path('.labsync/cache', f), 'utf8')) as Record<string, unknown>;
      const rows = readFileSync(lab.path('.labsync/cache', f.replace(/\.tree\.json$/, '.hashes')), 'utf8').split('\n').slice(1).map((l) => l.split('\t')).map((c) => [c[0], c[1], c[5]]);
      return [(root as string).startsWith(lab.path()) ? 'here' : 'there', { sha256, files, sums, racy, rows }];
    }));
    for (const [i, body] of ['row 3, now longer\n', 'r7\n'].entries()) {
      for (const lab of labs) lab.write(lab.path(`raw/d3/f${[3, 7][i]}.csv`), body);
      await wait();
      const [ahead, after] = await Promise.all([
        labs[0]!.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1' } }),
        labs[1]!.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1', LABSYNC_PREPARE: '0' } }),
      ]);
      expect(ahead.stderr).toContain('near cache put in place as prepared');
      expect(after.stderr).not.toContain('near cache prepared');
      const [x, y] = [ahead, after].map((r) => json<{ pairs: Pair[] }>(r).pairs[0]);
      for (const p of [x, y]) expect(p).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      // The same work counted: the rows made ahead are not counted twice.
      expect(x?.verify?.work).toEqual(y?.verify?.work);
      expect(x?.verify?.bytesHashed).toEqual(y?.verify?.bytesHashed);
      for (const lab of labs) summariesTrue(lab);
      // Both labs remember the same: one rewrote the source's cache ahead, the other after the verify.
      expect(remembered(labs[0]!)).toEqual(remembered(labs[1]!));
      for (const lab of labs) expect(readdirSync(lab.path('.labsync/cache')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('a transfer that fails prepares nothing and leaves the caches as they were; a prepared rewrite the verify does not ask for leaves no file', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    const dir = lab.path('.labsync/cache');
    // The hash caches, summaries and remembered listings (the tool's version is noted apart, per rsync found on the PATH).
    const files = (): Record<string, string> => Object.fromEntries(readdirSync(dir).filter((f) => f !== 'tool-versions.json').sort().map((f) => [f, readFileSync(join(dir, f), 'latin1')]));
    const before = files();
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5, longer now\n');
    await wait();
    // rsync sends the file, then says it failed: the pair fails, nothing is verified or remembered.
    const failing = rsyncThen('exit 23');
    const failed = await lab.cli(['data', 'push', '--json'], { env: { ...failing, LABSYNC_TRACE: '1' } });
    expect(failed.exitCode).not.toBe(0);
    expect(json<{ pairs: Pair[] }>(failed).pairs[0]).toMatchObject({ status: 'failed', verify: null });
    expect(failed.stderr).not.toContain('near cache prepared');
    expect(files()).toEqual(before);
    // A source file rewritten as rsync ends (same size): the rewrite prepared from the planned read is not the one asked for.
    lab.write(lab.path('raw/d2/f6.csv'), 'row 6, longer now\n');
    await wait();
    const env = rsyncThen(`printf 'ROW 6, LONGER NOW\\n' > '${lab.path('raw/d2/f6.csv')}'`);
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...env, LABSYNC_TRACE: '1' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json<{ pairs: (Pair & { warnings: string[] })[] }>(r).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(r.stderr).not.toContain('near cache put in place as prepared');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(lab.outside('nas/raw/d2/f6.csv'), 'utf8')).toBe('ROW 6, LONGER NOW\n');
    await wait();
    expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    summariesTrue(lab);
  });

  it('never calls a file verified that changed during the transfer, sent or not: it is read, found different and sent again', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5 changed\n');
    // Same sizes: only the stat keys tell. f5 was just sent; f6 was not in the plan at all.
    const env = rsyncThen(`printf 'ROW 5 CHANGED\\n' > '${lab.path('raw/d1/f5.csv')}'; printf 'ROW 6\\n' > '${lab.path('raw/d2/f6.csv')}'`);
    const r = await lab.cli(['data', 'push', '--json'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const p = json<{ pairs: (Pair & { warnings: string[] })[] }>(r).pairs[0];
    expect(p?.warnings.join('\n')).toContain('repaired 2 files that differed after the transfer: d1/f5.csv, d2/f6.csv');
    expect(p?.verify).toMatchObject({ status: 'in_sync' });
    expect(p?.verify?.work?.entries).toBe(2); // planned from the changed record alone
    expect(readFileSync(lab.outside('nas/raw/d1/f5.csv'), 'utf8')).toBe('ROW 5 CHANGED\n');
    expect(readFileSync(lab.outside('nas/raw/d2/f6.csv'), 'utf8')).toBe('ROW 6\n');
  });

  it('finds after the transfer a folder made, a folder moved in and a file renamed at the source meanwhile (none planned): sent, the old name not called in sync, deleted next run', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    const outside = tempDir('labsync-moved-in-');
    lab.write(join(outside, 'moved/m.csv'), 'moved in\n');
    utimesSync(join(outside, 'moved/m.csv'), old, old); // its ctime is older than the run: only its folder's tells
    await settled();
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5 changed\n');
    const env = rsyncThen(`mkdir -p '${lab.path('raw/d2/made')}'; printf 'made\\n' > '${lab.path('raw/d2/made/n.csv')}'; mv '${join(outside, 'moved')}' '${lab.path('raw/d3/moved')}'; mv '${lab.path('raw/d0/f4.csv')}' '${lab.path('raw/d0/f4-renamed.csv')}'`);
    const r = await lab.cli(['data', 'push', '--json', '-v'], { env: { ...env, LABSYNC_TRACE: '1' } });
    const p = json<{ pairs: (Pair & { commands?: string[] })[] }>(r).pairs[0];
    // Found by the source's patch, not a whole listing: one find of what changed, the changed folders listed again.
    expect(r.stderr).toContain('find spawned (changed)');
    expect(r.stderr).not.toContain('source listed whole');
    // The three new paths are found and sent by the repair; f4's old name is still at the destination (gone
    // at the source after the plan, deletions come only from a plan): the sides differ, so not verified.
    expect(r.exitCode, r.stderr).toBe(4);
    expect(p).toMatchObject({ status: 'drift', verify: { status: 'drift', extra: ['d0/f4.csv'], missing: [], changed: [] } });
    expect(p?.commands?.[1]).toContain('< (3 paths)');
    expect(readFileSync(lab.outside('nas/raw/d2/made/n.csv'), 'utf8')).toBe('made\n');
    const again = await run(lab);
    expect(again).toMatchObject({ status: 'ok', changes: { delete: ['d0/f4.csv'] }, verify: { status: 'in_sync' } });
    expect(readFileSync(lab.outside('nas/raw/d3/moved/m.csv'), 'utf8')).toBe('moved in\n');
  });

  it('lists neither side whole after the transfer; LABSYNC_AFTER=whole lists both, LABSYNC_SOURCE_AFTER=whole the source', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    await settled();
    const finds = async (env: Record<string, string>): Promise<{ whole: number; folders: number; changed: number }> => {
      await wait();
      lab.write(lab.path('raw/d1/f5.csv'), `row 5, changed at ${Date.now()}\n`);
      const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1', ...env } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(json<{ pairs: Pair[] }>(r).pairs[0]).toMatchObject({ status: 'ok', changes: { replace: ['d1/f5.csv'] }, verify: { status: 'in_sync' } });
      const marks = r.stderr.split('\n');
      const count = (re: RegExp): number => marks.filter((l) => re.test(l)).length;
      return { whole: count(/ find spawned$/), folders: count(/ find spawned \(folders\)$/), changed: count(/ find spawned \(changed\)$/) };
    };
    // Both sides before the plan; after it the source's changes since its listing began (one find that
    // prints only those), the destination's replaced record from one lstat.
    expect(await finds({})).toEqual({ whole: 2, folders: 0, changed: 1 });
    expect(await finds({ LABSYNC_SOURCE_AFTER: 'whole' })).toEqual({ whole: 3, folders: 0, changed: 0 });
    expect(await finds({ LABSYNC_AFTER: 'whole' })).toEqual({ whole: 4, folders: 0, changed: 0 });
  });

  it('plans, hashes and updates only the changed file; the racy files are compared once more; then nothing is read', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5, longer now\n');
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { replace: ['d1/f5.csv'], transfer: ['d1/f5.csv'], delete: [] }, verify: { status: 'in_sync', checked: FILES, proof: 'rsync-transfer-checksum', provenByTransfer: 1, bytesHashed: { local: 18, remote: 0 } } });
    // One entry per side for the plan, one cache row per side made; no listing parsed into entries, no cache loaded.
    // The copy is proved by rsync's whole-file checksum of what it wrote (compare-listed.ts Written), not read back.
    expect(p.verify?.work).toEqual({ entries: 2, cacheRows: 2 });
    expect(readFileSync(lab.outside('nas/raw/d1/f5.csv'), 'utf8')).toBe('row 5, longer now\n');
    await sumsAgree(lab, 'raw');
    // Both copies were just written (within the racy window): kept in the summaries, compared again once.
    await wait();
    // (Unless the machine was so slow that the copies were read past the window: then nothing is left to read.)
    const again = await run(lab);
    expect(again).toMatchObject({ status: 'ok', changes: { replace: [], transfer: [] }, verify: { status: 'in_sync' } });
    expect([0, 18]).toContain(again.verify?.bytesHashed?.local);
    expect(again.verify?.work?.entries).toBe(0);
    await sumsAgree(lab, 'raw');
    const quiet = await run(lab);
    expect(quiet.verify).toMatchObject({ status: 'in_sync', bytesHashed: { local: 0, remote: 0 } });
    await sumsAgree(lab, 'raw');
  });

  it('deletes and renames through the changed records only', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    rmSync(lab.path('raw/d0/f0.csv'));
    renameSync(lab.path('raw/d2/f2.csv'), lab.path('raw/d2/moved.csv'));
    // A whole folder gone at the source goes as one deletion.
    for (const i of [3, 7, 11, 15, 19, 23, 27, 31, 35, 39]) rmSync(lab.path(`raw/d3/f${i}.csv`));
    rmSync(lab.path('raw/d3'), { recursive: true });
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { transfer: ['d2/moved.csv'], replace: [] }, verify: { status: 'in_sync', checked: FILES - 11, bytesHashed: { local: 6, remote: 0 } } });
    expect(p.changes?.delete).toHaveLength(12);
    expect(p.verify?.work?.entries).toBeLessThan(30);
    expect(lab.tree(lab.outside('nas/raw'))).toEqual(lab.tree(lab.path('raw')));
    expect(() => statSync(lab.outside('nas/raw/d3'))).toThrow();
    await sumsAgree(lab, 'raw');
  });

  it('refuses a mirror whose deletions pass max_delete, counted on the destination as it is', async () => {
    const lab = new Lab().manifest(local('    max_delete: 3\n'));
    await proved(lab);
    for (const i of [0, 4, 8, 12]) rmSync(lab.path(`raw/d0/f${i}.csv`));
    const p = await run(lab);
    expect(p.status).toBe('refused');
    expect(p.error).toContain(`would delete 4 of ${FILES} files at the destination`);
    expect(Object.keys(lab.tree(lab.outside('nas/raw')))).toHaveLength(FILES);
  });

  it('repairs a change made at the destination', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    lab.write(lab.outside('nas/raw/d2/f6.csv'), 'ROW 6\n');
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { replace: ['d2/f6.csv'] }, verify: { status: 'in_sync', bytesHashed: { local: 0, remote: 0 }, provenByTransfer: 1 } });
    expect(readFileSync(lab.outside('nas/raw/d2/f6.csv'), 'utf8')).toBe('row 6\n');
  });

  it('keeps a file only the destination has when the pair does not delete: in sync, not drift, run after run', async () => {
    const lab = new Lab().manifest(local().replace('    delete: true\n', ''));
    await proved(lab);
    lab.write(lab.outside('nas/raw/d1/theirs.csv'), 'kept\n');
    lab.write(lab.path('raw/d0/f0.csv'), 'ROW 0 changed\n');
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { transfer: ['d0/f0.csv'], delete: [] }, verify: { status: 'in_sync' } });
    expect(p.verify?.work?.entries).toBeLessThan(FILES);
    expect(readFileSync(lab.outside('nas/raw/d1/theirs.csv'), 'utf8')).toBe('kept\n');
    // The next run finds it so again (the destination's extra file keeps the sides from a new proof).
    expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
  });

  it('compares a same-size, same-mtime rewrite (its ctime and inode differ) and never calls it verified unsent', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    const f = lab.path('raw/d3/f7.csv');
    const { mtime } = statSync(f);
    lab.write(f, 'ROW 7\n');
    utimesSync(f, mtime, mtime);
    const p = await run(lab);
    expect(p.status).toBe('ok');
    expect(p.verify).toMatchObject({ status: 'in_sync' });
    expect(readFileSync(lab.outside('nas/raw/d3/f7.csv'), 'utf8')).toBe('ROW 7\n');
    await sumsAgree(lab, 'raw');
  });

  it('plans the whole listings when the remembered listing is not the one summed up', async () => {
    const lab = new Lab().manifest(local());
    await proved(lab);
    for (const f of readdirSync(lab.path('.labsync/cache')).filter((n) => n.endsWith('.listing'))) lab.write(lab.path('.labsync/cache', f), 'garbage\0');
    lab.write(lab.path('raw/d1/f1.csv'), 'row 1, changed\n');
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { replace: ['d1/f1.csv'] }, verify: { status: 'in_sync' } });
    expect(p.verify?.work?.entries).toBe(2 * FILES);
  });

  it('lists the destination again after the transfer only in the folders it touched, and remembers find\'s very listing of each tree, pushed and pulled, backups kept', async () => {
    const lab = new Lab().manifest(local('    backup: true\n'));
    await proved(lab);
    /** Each tree's remembered listing (.labsync/cache/*.listing) is what find prints of it now. */
    const remembered = (): void => {
      const find = (root: string): string => execFileSync('find', ['.', '-path', './.labsync-backup', '-prune', '-o', '-type', 'f', '-printf', '%s %T@ %C@ %i %P\\0'], { cwd: root }).toString('latin1');
      const dir = lab.path('.labsync/cache');
      const kept = readdirSync(dir).filter((f) => f.endsWith('.listing')).map((f) => readFileSync(join(dir, f)).toString('latin1')).sort();
      expect(kept).toEqual([find(lab.path('raw')), find(lab.outside('nas/raw'))].sort());
    };
    const traced = async (args: string[]): Promise<{ pair: Pair; whole: number; folders: number }> => {
      const r = await lab.cli([...args, '--json'], { env: { LABSYNC_TRACE: '1' } });
      expect(r.exitCode, r.stderr).toBe(0);
      const marks = r.stderr.split('\n');
      return { pair: json<{ pairs: Pair[] }>(r).pairs[0] as Pair, whole: marks.filter((l) => / find spawned$/.test(l)).length, folders: marks.filter((l) => / find spawned \(folders\)$/.test(l)).length };
    };
    await settled();
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5, longer now\n');
    lab.write(lab.path('raw/d2/new/n.csv'), 'new in a new folder\n');
    rmSync(lab.path('raw/d0/f0.csv'));
    const pushed = await traced(['data', 'push']);
    expect(pushed.pair).toMatchObject({ status: 'ok', changes: { replace: ['d1/f5.csv'], delete: ['d0/f0.csv'] }, verify: { status: 'in_sync' } });
    // Each side listed whole before the plan, neither after. The source's changes made just before its
    // listing began (within its two seconds of margin: listing-after.ts) are found again after the transfer
    // by ctime: its two folders whose entries changed (d0, d2) listed again by one find. At the
    // destination the replaced copy is read again by one lstat; only the new copy's folder is listed, by one find.
    // (Unless the run began listing more than the margin after those changes: then the source's folders are not looked at again.)
    expect(pushed.whole).toBe(2);
    expect([1, 2]).toContain(pushed.folders);
    remembered();
    const [stamp] = readdirSync(lab.outside('nas/raw/.labsync-backup'));
    expect(lab.tree(lab.outside('nas/raw/.labsync-backup', stamp as string))).toEqual({ 'd0/f0.csv': 'row 0\n', 'd1/f5.csv': 'row 5\n' });
    await wait();
    lab.write(lab.outside('nas/raw/d3/f3.csv'), 'from the far side\n');
    const pulled = await traced(['data', 'pull']);
    expect(pulled.pair).toMatchObject({ status: 'ok', changes: { replace: ['d3/f3.csv'] }, verify: { status: 'in_sync' } });
    // The source (the far side now) listed whole again: the pair's lock there (.labsync-lock) moved its
    // root's ctime, and a root whose entries changed is listed whole (changed-since.ts). The destination's
    // replaced record rewritten in place from one lstat.
    expect({ whole: pulled.whole, folders: pulled.folders }).toEqual({ whole: 3, folders: 0 });
    remembered();
    const files = (root: string): Record<string, string> => Object.fromEntries(Object.entries(lab.tree(root)).filter(([k]) => !k.startsWith('.labsync-backup/')));
    expect(files(lab.outside('nas/raw'))).toEqual(files(lab.path('raw')));
  });
});

const ssh = inject('sshHost');

describe.skipIf(!ssh)('an ssh pair after a small change', () => {
  const host = ssh as SshHost;

  it("after a first push and the run that proves its fresh copies, each side's summary is true to its own cache and the two agree", async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab));
    for (let i = 0; i < FILES; i++) {
      const f = lab.path(`raw/d${i % 4}/f${i}.csv`);
      lab.write(f, `row ${i}\n`);
      utimesSync(f, old, old);
    }
    expect((await run(lab)).verify).toMatchObject({ status: 'in_sync', proof: 'rsync-transfer-checksum' });
    await wait();
    // The run that proves the fresh copies: the host's summary borrows the local content digest (side-summary.ts),
    // both sides having been proved equal file by file.
    const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1' } });
    expect(json<{ pairs: Pair[] }>(r).pairs[0]?.verify?.status).toBe('in_sync');
    expect(r.stderr).toContain('far summary: the near content digest');
    summariesTrue(lab);
    lab.write(lab.path('raw/d2/f6.csv'), 'row 6, changed\n');
    await wait();
    expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    await wait();
    expect(await run(lab)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    summariesTrue(lab);
  });

  it('hashes the changed file here, proves the copy by the transfer, and builds entries for it alone', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    await proved(lab);
    lab.write(lab.path('raw/d1/f9.csv'), 'row 9 changed\n');
    const p = await run(lab);
    expect(p).toMatchObject({ status: 'ok', changes: { replace: ['d1/f9.csv'] }, verify: { status: 'in_sync', checked: FILES, proof: 'rsync-transfer-checksum', bytesHashed: { local: 14, remote: 0 }, work: { entries: 2, cacheRows: 2 } } });
    expect(readFileSync(lab.outside('gpu/raw/d1/f9.csv'), 'utf8')).toBe('row 9 changed\n');
    await sumsAgree(lab, 'raw');
    // A change on the host and a new file here, in one run.
    await wait();
    lab.write(lab.outside('gpu/raw/d0/f4.csv'), 'tampered\n');
    lab.write(lab.path('raw/new.csv'), 'new\n');
    const q = await run(lab);
    // 4 bytes of the new file, and the 14 of the last run's racy copy (if it was racy), compared once more;
    // f4 is unchanged here (its hash comes from the local cache) and its copy is proved by the transfer.
    expect(q).toMatchObject({ status: 'ok', changes: { replace: ['d0/f4.csv'] }, verify: { status: 'in_sync', checked: FILES + 1 } });
    expect([4, 18]).toContain(q.verify?.bytesHashed?.local);
    expect(q.changes?.transfer.sort()).toEqual(['d0/f4.csv', 'new.csv']);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual(lab.tree(lab.path('raw')));
    await sumsAgree(lab, 'raw');
    // A pull of a file changed on the host: planned from the changed record, the local copy proved by the transfer.
    await wait();
    lab.write(lab.outside('gpu/raw/d3/f3.csv'), 'from the host\n');
    const pulled = await run(lab, ['data', 'pull']);
    expect(pulled).toMatchObject({ status: 'ok', changes: { replace: ['d3/f3.csv'] }, verify: { status: 'in_sync', checked: FILES + 1 } });
    expect(pulled.verify?.work?.entries).toBeLessThanOrEqual(6);
    expect(readFileSync(lab.path('raw/d3/f3.csv'), 'utf8')).toBe('from the host\n');
  });
});
