// The far side's hash cache rewrite of a small push, made while the source's find after the transfer
// runs (engine/incremental-prepare-far.ts): put in place only when the verify asks for exactly the
// update prepared, and then the same as a rewrite made after the verify; a file changed during the
// transfer, sent or not, or a verify that finds drift, takes the usual path. Real rsync, sshd and find.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();
const ssh = inject('sshHost');

interface Pair {
  status: string;
  warnings: string[];
  changes?: { transfer: string[]; replace: string[]; delete: string[] };
  verify: { status: string; proof?: string; bytesHashed?: { local: number; remote: number }; work?: { entries: number; cacheRows: number } } | null;
}
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

const FILES = 40;
const old = new Date(Date.now() - 3600_000);

/** A tree of FILES old files pushed, then proved (summed up once past the racy window). */
async function proved(lab: Lab): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    const f = lab.path(`raw/d${i % 4}/f${i}.csv`);
    lab.write(f, `row ${i}\n`);
    utimesSync(f, old, old);
  }
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  await pastRacyWindow();
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
}

/** A PATH whose rsync runs `after` once, right after the transfer of a file list (as incremental.test.ts does). */
function rsyncThen(after: string): Record<string, string> {
  const dir = tempDir('labsync-far-then-');
  const real = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
  const script = join(dir, 'rsync');
  writeFileSync(script, `#!/bin/sh\n"${real}" "$@"\nrc=$?\ncase " $* " in *" --files-from=- "*) if [ ! -e "${dir}/done" ]; then : > "${dir}/done"; ${after}; fi ;; esac\nexit $rc\n`);
  chmodSync(script, 0o755);
  return { PATH: `${dir}:${process.env.PATH ?? ''}` };
}

const cacheFiles = (lab: Lab): string[] => readdirSync(lab.path('.labsync/cache'));

/** Each side's summary (digests, files, racy rows) and cache rows (path, size, sha256), and every summary true to its cache. */
function remembered(lab: Lab): Record<string, unknown> {
  const dir = lab.path('.labsync/cache');
  const sides = cacheFiles(lab).filter((f) => f.endsWith('.tree.json')).map((f) => {
    const { root, sha256, files, sums, racy } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { root: string; sha256: string; files: number; sums?: string; racy?: { path: string; size: number; sha256: string }[] };
    const rows = readFileSync(join(dir, f.replace(/\.tree\.json$/, '.hashes')), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
    // The summary's content digest is what its cache rows and racy rows sum up to (tree-summary.ts contentDigest).
    const all = new Map(rows.map((c) => [c[0] as string, `${c[1]}\0${c[5]}`]));
    for (const r of racy ?? []) all.set(r.path, `${r.size}\0${r.sha256}`);
    const h = createHash('sha256');
    for (const p of [...all.keys()].sort()) h.update(`${p}\0${all.get(p)}\n`);
    expect(files).toBe(all.size);
    expect(sha256).toBe(h.digest('hex'));
    return [root.startsWith(lab.path()) ? 'here' : 'there', { sha256, files, sums, racy, rows: rows.map((c) => [c[0], c[1], c[5]]) }] as const;
  });
  expect(sides).toHaveLength(2);
  expect(sides[0]?.[1].sha256).toBe(sides[1]?.[1].sha256);
  return Object.fromEntries(sides);
}

// To a local folder, whether it is prepared, and in time, depends on what the verify reads there and on
// how soon the local find ends: either way it remembers the same.
const manifests: [string, (lab: Lab) => string, boolean][] = [
  ['an ssh host: put in place as prepared', (lab) => sshPairManifest(ssh as SshHost, lab, { pair: '    delete: true\n' }), true],
  ['a local folder', () => 'version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../gpu }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n', false],
];

describe.skipIf(!ssh)('the far side\'s cache rewrite made ahead', () => {
  it.each(manifests)('to %s, remembering what a rewrite after the verify remembers, the last run\'s racy copy too', async (_name, manifest, ssh) => {
    const labs = [new Lab(), new Lab()];
    for (const lab of labs) {
      lab.manifest(manifest(lab));
      await proved(lab);
    }
    // Each run after the first compares the last run's racy copy once more (its summary's racy entry), as it puts the new one in.
    for (const [i, body] of ['row 3, now longer\n', 'r7\n'].entries()) {
      for (const lab of labs) lab.write(lab.path(`raw/d3/f${[3, 7][i]}.csv`), body);
      await pastRacyWindow();
      const [ahead, after] = await Promise.all([
        labs[0]!.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1' } }),
        labs[1]!.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1', LABSYNC_PREPARE_FAR: '0' } }),
      ]);
      if (ssh) expect(ahead.stderr).toContain('far cache put in place as prepared');
      expect(after.stderr).not.toContain('far cache prepared');
      const [x, y] = [ahead, after].map(pairOf);
      for (const p of [x, y]) expect(p).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      // The same work counted, and the same files read.
      expect(x?.verify?.work).toEqual(y?.verify?.work);
      // Planned from the changed records alone: the listings kept by the last run (written ahead or not) are the ones summed up.
      expect(x?.verify?.work?.entries).toBeLessThanOrEqual(4);
      expect(x?.verify?.bytesHashed).toEqual(y?.verify?.bytesHashed);
      const kept = remembered(labs[0]!) as { there: { racy?: unknown[] } };
      expect(kept).toEqual(remembered(labs[1]!));
      // The copy just written is racy there (its ctime): the next run compares it once more.
      expect(kept.there.racy?.length).toBeGreaterThan(0);
      for (const lab of labs) expect(cacheFiles(lab).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    // The next run finds both trees as remembered: nothing read.
    await pastRacyWindow();
    for (const lab of labs) {
      const again = pairOf(await lab.cli(['data', 'push', '--json']));
      expect(again).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
      expect(again.changes?.transfer ?? []).toEqual([]);
    }
  });
});

describe.skipIf(!ssh)('the far side\'s cache rewrite made ahead, when the source changes during the transfer', () => {
  const host = ssh as SshHost;
  const sshLab = async (): Promise<Lab> => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    await proved(lab);
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5 changed\n');
    await pastRacyWindow();
    return lab;
  };
  /** The push with `after` run as rsync ends, and then a push that finds both trees as remembered. */
  async function pushed(lab: Lab, after: string): Promise<{ p: Pair; stderr: string }> {
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...rsyncThen(after), LABSYNC_TRACE: '1' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(cacheFiles(lab).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await pastRacyWindow();
    const again = pairOf(await lab.cli(['data', 'push', '--json']));
    expect(again).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    remembered(lab);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual(lab.tree(lab.path('raw')));
    return { p: pairOf(r), stderr: r.stderr };
  }

  it('a change pushed within its racy second: what the prepared rewrite holds is the verify\'s, racy entries and all', async () => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    await proved(lab);
    // Written and pushed at once: racy here and there; then a run past the window puts both rows in.
    lab.write(lab.path('raw/d1/f5.csv'), 'row 5 changed\n');
    const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_TRACE: '1' } });
    expect(pairOf(r)).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(r.stderr).toContain('far cache put in place as prepared');
    const kept = remembered(lab) as { here: { racy?: { path: string }[] }; there: { racy?: { path: string }[] } };
    // The copy there always (its ctime is the transfer's); the source here unless a second passed before it was listed.
    expect(kept.there.racy?.map((x) => x.path)).toEqual(['d1/f5.csv']);
    expect([[], ['d1/f5.csv']]).toContainEqual(kept.here.racy?.map((x) => x.path) ?? []);
    await pastRacyWindow();
    const again = pairOf(await lab.cli(['data', 'push', '--json']));
    expect(again).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(again.changes?.transfer ?? []).toEqual([]);
    expect(cacheFiles(lab).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    remembered(lab);
  });

  it('the sent file rewritten as rsync ends (same size): nothing prepared from the copy sent, the new bytes sent again', async () => {
    const lab = await sshLab();
    const { p, stderr } = await pushed(lab, `printf 'ROW 5 CHANGED\\n' > '${lab.path('raw/d1/f5.csv')}'`);
    expect(stderr).toContain('far cache not prepared: d1/f5.csv');
    expect(stderr).not.toContain('far cache put in place as prepared');
    expect(p.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: d1/f5.csv');
    expect(p.verify).toMatchObject({ status: 'in_sync' });
    expect(readFileSync(lab.outside('gpu/raw/d1/f5.csv'), 'utf8')).toBe('ROW 5 CHANGED\n');
  });

  it('a file not sent rewritten meanwhile (same size): the verify finds drift, and the rewrite prepared is dropped', async () => {
    const lab = await sshLab();
    const { p, stderr } = await pushed(lab, `printf 'ROW 6\\n' > '${lab.path('raw/d2/f6.csv')}'`);
    expect(stderr).toContain('far cache prepared');
    expect(stderr).not.toContain('far cache put in place as prepared');
    expect(p.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: d2/f6.csv');
    expect(readFileSync(lab.outside('gpu/raw/d2/f6.csv'), 'utf8')).toBe('ROW 6\n');
  });

  it('a file not sent touched meanwhile (same bytes): in sync, but not the update prepared, so the usual rewrite runs', async () => {
    const lab = await sshLab();
    const { p, stderr } = await pushed(lab, `touch '${lab.path('raw/d2/f6.csv')}'`);
    expect(p).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(p.warnings).toEqual([]);
    expect(stderr).toContain('far cache prepared for another update');
  });
});
