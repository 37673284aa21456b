// `full_check: 7d` on every pair kind that can read its bytes again (issue 12 item 4): due with no
// record, answered from the caches right after, due again once the record is older than 7 days. The
// work is counted (bytes read, in --json and the receipt), never timed. Real tools: moto on 127.0.0.1
// for aws and rclone, local rsync.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { pastRacyWindow } from './harness/wait.js';

const s3 = inject('s3');
interface Verify { status: string; checked: number; changed?: string[]; proof?: string; bytesHashed?: { local: number; remote: number } }
interface Pair { status: string; error: string | null; verify: Verify | null; commands: string[] }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;
const DAY = 86_400_000;

/** Five files of known sizes; their total is what a full check reads of each side. */
function fill(lab: Lab): number {
  let total = 0;
  for (let i = 0; i < 5; i++) {
    lab.write(lab.path('raw', `d${i % 2}`, `f${i}`), randomBytes(200 + i));
    total += 200 + i;
  }
  return total;
}

/** The pair's last full check, moved back to `daysAgo` days before now (as full-check.ts keeps it). */
const age = (lab: Lab, daysAgo: number): void => {
  const file = lab.path('.labsync', 'cache', 'full-check-raw.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), at: Date.now() - daysAgo * DAY }));
};

/** The pair's local hash cache (one tree: raw/), as its tab-separated rows (cache-file.ts). */
function cacheFile(lab: Lab): string {
  const dir = lab.path('.labsync', 'cache');
  const files = readdirSync(dir).filter((f) => f.endsWith('.hashes'));
  expect(files).toHaveLength(1);
  return join(dir, files[0] as string);
}
const cacheRow = (lab: Lab, path: string): string[] => (readFileSync(cacheFile(lab), 'utf8').split('\n').find((l) => l.startsWith(`${path}\t`)) as string).split('\t');
function setCacheRow(lab: Lab, path: string, row: string[]): void {
  const file = cacheFile(lab);
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').map((l) => (l.startsWith(`${path}\t`) ? row.join('\t') : l)).join('\n'));
}

/** The newest receipt's proof and bytes read. */
function lastReceipt(lab: Lab): { proof: string | null; bytesHashed: unknown } {
  const dir = lab.path('.labsync', 'receipts');
  const newest = readdirSync(dir).sort().at(-1) as string;
  return JSON.parse(readFileSync(join(dir, newest), 'utf8')) as { proof: string | null; bytesHashed: unknown };
}

/**
 * Push with no record (full), push right after (cached), check with the record 6 days old (cached), then
 * 8 days old (full again). `settle`: the destination is a folder labsync hashes, whose files the push
 * just wrote are too new to remember (the racy window): one plain check reads them once, later ones not.
 */
async function cycle(lab: Lab, env: Record<string, string>, full: Partial<Verify>, settle = false): Promise<void> {
  await pastRacyWindow();
  const first = await lab.cli(['data', 'push', '--json'], { env });
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  expect(pairOf(first).verify).toMatchObject({ status: 'in_sync', checked: 5, ...full });
  expect(lastReceipt(lab)).toMatchObject({ proof: 'full', bytesHashed: full.bytesHashed });
  if (settle) {
    await pastRacyWindow();
    expect(pairOf(await lab.cli(['check', '--json'], { env })).verify).toMatchObject({ status: 'in_sync', proof: 'cached', bytesHashed: { local: 0 } });
  }

  const again = await lab.cli(['data', 'push', '--json'], { env });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(pairOf(again).verify).toMatchObject({ status: 'in_sync', checked: 5, proof: 'cached', bytesHashed: { local: 0, remote: 0 } });
  expect(lastReceipt(lab)).toMatchObject({ proof: 'cached', bytesHashed: { local: 0, remote: 0 } });

  age(lab, 6);
  const young = await lab.cli(['check', '--json'], { env });
  expect(pairOf(young).verify).toMatchObject({ status: 'in_sync', proof: 'cached', bytesHashed: { local: 0, remote: 0 } });

  age(lab, 8);
  const expired = await lab.cli(['data', 'push', '--json'], { env });
  expect(expired.exitCode, expired.stderr).toBe(0);
  expect(pairOf(expired).verify).toMatchObject({ status: 'in_sync', checked: 5, ...full });
  expect(lastReceipt(lab)).toMatchObject({ proof: 'full', bytesHashed: full.bytesHashed });
  // That full check was recorded: the check right after reads nothing.
  const after = await lab.cli(['check', '--json'], { env });
  expect(pairOf(after).verify).toMatchObject({ status: 'in_sync', proof: 'cached', bytesHashed: { local: 0, remote: 0 } });

  // Due at check time too: a check re-reads as the push did, and records it.
  age(lab, 8);
  const checked = await lab.cli(['check', '--json'], { env });
  expect(checked.exitCode, checked.stderr).toBe(0);
  expect(pairOf(checked).verify).toMatchObject({ status: 'in_sync', ...full });
  expect(pairOf(await lab.cli(['check', '--json'], { env })).verify).toMatchObject({ proof: 'cached', bytesHashed: { local: 0, remote: 0 } });

  // Asked for, whether due or not: the same full read.
  const asked = await lab.cli(['check', '--full', '--json'], { env });
  expect(asked.exitCode, asked.stderr).toBe(0);
  expect(pairOf(asked).verify).toMatchObject({ status: 'in_sync', ...full });
}

describe.skipIf(!s3)('full_check on S3 pairs (moto on 127.0.0.1)', () => {
  const server = s3 as S3Server;
  const manifest = (bucket: string, tool: string, remote: string): string => `version: 1
defaults:
  retries: 0
remotes:
  store: ${remote}
data:
  - name: raw
    tool: ${tool}
    local: raw
    remote: store:raw
    full_check: 7d
`;
  const s3Remote = (bucket: string): string => `{ type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`;

  it('aws: every local byte read again against the listed ETags when due, none right after, all again once the record is 8 days old', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', s3Remote(bucket)));
    const total = fill(lab);
    // No download: the store's ETags are the checksums it recorded; the local side is read in full.
    await cycle(lab, S3_KEYS, { proof: 'full', bytesHashed: { local: total, remote: 0 } });
  });

  it('rclone: when due, rclone check --download reads both sides in full (its own count of the bytes), none right after', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    const remote = `{ type: rclone, remote: mys3, path: ${bucket}/lab, config: { type: s3, provider: Other, endpoint: "${server.endpoint}", region: us-east-1, access_key_id: ${S3_KEYS.AWS_ACCESS_KEY_ID}, secret_access_key: ${S3_KEYS.AWS_SECRET_ACCESS_KEY} } }`;
    lab.manifest(manifest(bucket, 'rclone', remote));
    const total = fill(lab);
    await cycle(lab, {}, { proof: 'full', bytesHashed: { local: total, remote: total } });
  });

  it('aws: a due full check finds local bytes that changed under a hash cache still vouching for them (bit rot)', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', s3Remote(bucket)));
    fill(lab);
    await pastRacyWindow();
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    const good = cacheRow(lab, 'd0/f0');
    // Other bytes of the same size, read by a check (drift), then the cache row put back to the old
    // digests under the new stat key: what rot looks like to labsync, a key it hashed and a digest it trusts.
    lab.write(lab.path('raw/d0/f0'), randomBytes(200));
    await pastRacyWindow();
    expect((await lab.cli(['check'], { env: S3_KEYS })).exitCode).toBe(4);
    const rotten = cacheRow(lab, 'd0/f0');
    setCacheRow(lab, 'd0/f0', [...rotten.slice(0, 5), ...good.slice(5)]);
    const trusted = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(pairOf(trusted)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', proof: 'cached', bytesHashed: { local: 0, remote: 0 } } });
    age(lab, 8);
    const due = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(due.exitCode).toBe(4);
    expect(pairOf(due)).toMatchObject({ status: 'drift', verify: { status: 'drift', changed: ['d0/f0'], proof: 'full' } });
    // What the full check read is remembered: the next, cached, check sees the drift too, reading only
    // that file (its SHA-256 and CRC32 against the store's own checksums, compare-s3.ts).
    const next = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(next.exitCode).toBe(4);
    expect(pairOf(next).verify).toMatchObject({ status: 'drift', changed: ['d0/f0'], proof: 'cached', bytesHashed: { local: 200, remote: 0 } });
  });
});

describe('full_check on a local rsync pair', () => {
  it('due with no record, cached right after, due again once the record is 8 days old', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    full_check: 7d\n`);
    const total = fill(lab);
    await cycle(lab, {}, { proof: 'full', bytesHashed: { local: total, remote: total } }, true);
  });
});

describe('full_check on a pair verified by size', () => {
  it('never comes due on its own (nothing is read: no run says full), and check --full compares content', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\n  full_check: 7d\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    verify: size\n`);
    fill(lab);
    await pastRacyWindow();
    for (let run = 0; run < 2; run++) {
      const r = await lab.cli(['data', 'push', '--json']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(pairOf(r).verify).toMatchObject({ status: 'in_sync', mode: 'size', proof: 'cached', bytesHashed: { local: 0, remote: 0 } });
      expect(lastReceipt(lab)).toMatchObject({ proof: 'cached' });
    }
    // A copy's bytes changed under its size: only a content comparison sees it.
    const copy = lab.outside('nas', 'd0', 'f0');
    writeFileSync(copy, Buffer.alloc(readFileSync(copy).length, 7));
    expect((await lab.cli(['check'])).exitCode).toBe(0);
    const full = await lab.cli(['check', '--full', '--json']);
    expect(full.exitCode, full.stdout + full.stderr).toBe(4);
    expect(pairOf(full).verify).toMatchObject({ status: 'drift', mode: 'checksum', changed: ['d0/f0'] });
  });
});

describe('a full check of another folder under the pair\'s name, or dated after now, is not this one\'s', () => {
  it('is due again once the pair points elsewhere, or its record lies in the future', async () => {
    const lab = new Lab();
    const manifest = (to: string): string => `version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside(to)}"\n    full_check: 7d\n`;
    lab.manifest(manifest('nas'));
    const total = fill(lab);
    await pastRacyWindow();
    expect(pairOf(await lab.cli(['data', 'push', '--json'])).verify).toMatchObject({ proof: 'full' });
    expect(pairOf(await lab.cli(['data', 'push', '--json'])).verify).toMatchObject({ proof: 'cached' });
    age(lab, -1);
    expect(pairOf(await lab.cli(['data', 'push', '--json'])).verify).toMatchObject({ proof: 'full', bytesHashed: { local: total, remote: total } });
    lab.manifest(manifest('nas2'));
    const moved = await lab.cli(['data', 'push', '--json']);
    expect(moved.exitCode, moved.stdout + moved.stderr).toBe(0);
    expect(pairOf(moved).verify).toMatchObject({ status: 'in_sync', proof: 'full' });
  });
});

describe('full_check on a snapshot pair', () => {
  it('is one record for the pair, whichever snapshot a push wrote or a check read: only the first run is full', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n    snapshots: { keep: 3 }\n    full_check: 7d\n`);
    fill(lab);
    await pastRacyWindow();
    const proofs: string[] = [];
    for (let i = 0; i < 2; i++) {
      if (i) lab.write(lab.path('raw', `new${i}`), randomBytes(100));
      const pushed = await lab.cli(['data', 'push', '--json']);
      expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
      proofs.push(String(pairOf(pushed).verify?.proof));
      const checked = await lab.cli(['data', 'check', '--json']);
      expect(checked.exitCode, checked.stdout + checked.stderr).toBe(0);
      proofs.push(String(pairOf(checked).verify?.proof));
    }
    expect(proofs[0]).toBe('full');
    expect(proofs.slice(1)).not.toContain('full');
  });
  it('a record an earlier build kept (its ends written as the folder and the remote\'s words) still counts: no full re-read on upgrade', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    full_check: 7d\n`);
    fill(lab);
    await pastRacyWindow();
    expect(pairOf(await lab.cli(['data', 'push', '--json'])).verify).toMatchObject({ proof: 'full' });
    writeFileSync(lab.path('.labsync', 'cache', 'full-check-raw.json'), JSON.stringify({ at: Date.now() - DAY, of: `${lab.path('raw')}\0file://${lab.outside('nas')}` }));
    expect(pairOf(await lab.cli(['data', 'push', '--json'])).verify).toMatchObject({ proof: 'cached' });
  });
});

describe('validate and full_check', () => {
  it('warns where a git or dvc pair sets full_check (the pair and the key), not where it comes from defaults', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  full_check: 30d\ncode:\n  - name: repo\n    local: .\n    remote: "${lab.outside('origin.git')}"\n    branch: main\n  - name: tools\n    local: tools\n    remote: "${lab.outside('tools.git')}"\n    branch: main\n    full_check: 7d\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    full_check: 7d\n`);
    const v = await lab.cli(['validate']);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/^warning: code\.tools: full_check: ignored; git pairs compare commits/m);
    expect(v.stderr).not.toMatch(/code\.repo|data\.raw/);
    const j = json<{ warnings?: string[] }>(await lab.cli(['validate', '--json']));
    expect(j.warnings).toHaveLength(1);
  });
});
