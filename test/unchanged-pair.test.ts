// A local↔local pair nothing touched since it was proved equal (issue 12, item 6): answered from two
// find listings and the tree summaries, with neither hash cache read. The caches are damaged on
// purpose below: a run that read one would warn that it ignored it, so no warning proves no read.
import { readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';

interface Doc {
  pairs: { status: string; files: number; warnings: string[]; changes?: { transfer: string[] }; verify: { status: string; checked: number; proof?: string; bytesHashed?: { local: number; remote: number } } | null }[];
}

const MANIFEST = 'version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    delete: true\n';

/**
 * Two pushes: the first sends; the second, once every file's ctime is past the racy window (a file
 * changed within a second of being hashed is not remembered), hashes both trees and sums them up.
 */
async function provedLab(): Promise<Lab> {
  const lab = new Lab().manifest(MANIFEST);
  const old = new Date(Date.now() - 3600_000);
  for (let i = 0; i < 40; i++) {
    lab.write(lab.path(`raw/d${i % 4}/f${i}.csv`), `row ${i}\n`);
    utimesSync(lab.path(`raw/d${i % 4}/f${i}.csv`), old, old);
  }
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  await new Promise((r) => setTimeout(r, 1200));
  expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  return lab;
}

const caches = (lab: Lab): string[] => readdirSync(lab.path('.labsync/cache')).filter((f) => f.endsWith('.hashes')).map((f) => lab.path('.labsync/cache', f));
const damage = (lab: Lab): void => {
  const files = caches(lab);
  expect(files).toHaveLength(2);
  for (const f of files) writeFileSync(f, 'labsync-hashes\t3\tnot this tree\ngarbage\n');
};
/** The pair's result, and what it said on stderr (where a damaged cache is reported). */
const push = async (lab: Lab): Promise<Doc['pairs'][number] & { stderr: string }> => {
  const r = await lab.cli(['data', 'push', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return { ...(json<Doc>(r).pairs[0] as Doc['pairs'][number]), stderr: String(r.stderr) };
};

describe('an unchanged local pair', () => {
  it('is verified from its tree summaries: no cache read, no file read, nothing sent', async () => {
    const lab = await provedLab();
    damage(lab);
    const p = await push(lab);
    expect(p.stderr).not.toMatch(/hash cache/);
    expect(p).toMatchObject({ status: 'ok', files: 0, warnings: [], changes: { transfer: [] }, verify: { status: 'in_sync', checked: 40, proof: 'cached', bytesHashed: { local: 0, remote: 0 } } });
    // The receipt still names the tree's sums, as `labsync sums` prints them.
    const receipts = readdirSync(lab.path('.labsync/receipts')).sort();
    const receipt = JSON.parse(readFileSync(lab.path('.labsync/receipts', receipts[receipts.length - 1] as string), 'utf8')) as { sumsDigest: string; sumsFiles: number };
    const first = JSON.parse(readFileSync(lab.path('.labsync/receipts', receipts[0] as string), 'utf8')) as { sumsDigest: string };
    expect(receipt).toMatchObject({ sumsDigest: first.sumsDigest, sumsFiles: 40 });
  });

  it('is listed and compared again once a stat key changes on either side, or a symlink appears', async () => {
    const lab = await provedLab();
    damage(lab);
    // Same content, new mtime at the destination: not recognised; one record changed, so only it is planned and
    // compared (engine/incremental.ts), and the caches are streamed to be updated: damaged, they are told and
    // left to the next run, which compares every file and rebuilds them.
    const when = new Date(Date.now() - 60_000);
    utimesSync(lab.outside('nas/raw/d1/f1.csv'), when, when);
    const p = await push(lab);
    expect(p.status).toBe('ok');
    expect(p.stderr).toMatch(/could not update the hash cache .*the next run compares every file/);
    expect(p.verify).toMatchObject({ status: 'in_sync', checked: 40, bytesHashed: { local: 6, remote: 0 }, proof: 'rsync-transfer-checksum' });
    const rebuilt = await push(lab);
    expect(rebuilt.stderr).toMatch(/ignored the damaged hash cache/);
    // Proved again (and summed up again, its ctime now past the racy window): the next run reads nothing once more.
    await new Promise((r) => setTimeout(r, 1200));
    await push(lab);
    damage(lab);
    const again = await push(lab);
    expect(again.stderr).not.toMatch(/hash cache/);
    expect(again).toMatchObject({ verify: { proof: 'cached', bytesHashed: { local: 0, remote: 0 } } });
    // A symlink is not in the file listing: the pair goes the way it always went, never "unchanged".
    symlinkSync('d0/f0.csv', lab.path('raw/link.csv'));
    const linked = await push(lab);
    expect(linked.status).toBe('ok');
    expect(lab.tree(lab.outside('nas/raw'))['link.csv']).toBe('row 0\n');
  });
});
