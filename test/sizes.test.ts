// Reported sizes: every tool's pair says the true bytes it moved, off a terminal, in --json, plain
// output, state and receipts — for a push (the local files' sizes) and for a pull.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';

const s3 = inject('s3');
interface Doc { pairs: { name: string; status: string; files: number; bytes: number }[] }

// 8 files of 16, 32, … 128 bytes: 576 B, small enough that plain output prints it exactly.
const SIZES = Array.from({ length: 8 }, (_, i) => 16 * (i + 1));
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

function lab(remotes: string, tool: string): Lab {
  const l = new Lab().manifest(`version: 1
defaults:
  retries: 0
remotes:
${remotes}
data:
  - { name: up, tool: ${tool}, local: up, remote: "store:raw" }
  - { name: down, tool: ${tool}, local: down, remote: "store:raw", mode: pull }
`);
  SIZES.forEach((n, i) => l.write(l.path('up', `sub${i % 2}`, `f${i}.bin`), 'x'.repeat(n)));
  mkdirSync(l.path('down'), { recursive: true });
  return l;
}

async function expectTrueSizes(l: Lab, env: Record<string, string> = {}): Promise<void> {
  const pushed = await l.cli(['data', 'push', 'up', '--json'], { env });
  expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
  expect(json<Doc>(pushed).pairs[0]).toMatchObject({ status: 'ok', files: 8, bytes: TOTAL });
  const state = JSON.parse(readFileSync(l.path('.labsync/state.json'), 'utf8'));
  expect(state.pairs.up).toMatchObject({ files: 8, bytes: TOTAL });
  const receipts = readdirSync(l.path('.labsync/receipts')).filter((f) => f.endsWith('-up.json'));
  expect(JSON.parse(readFileSync(l.path('.labsync/receipts', receipts.at(-1) as string), 'utf8'))).toMatchObject({ files: 8, bytes: TOTAL });

  // A pull of all 8 into an empty folder, then of the one changed since: each its own bytes.
  const first = await l.cli(['data', 'pull', 'down', '--json'], { env });
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  expect(json<Doc>(first).pairs[0]).toMatchObject({ status: 'ok', files: 8, bytes: TOTAL });
  l.write(l.path('up/sub1/f3.bin'), 'y'.repeat(1000));
  expect((await l.cli(['data', 'push', 'up'], { env })).exitCode).toBe(0);
  const pulled = await l.cli(['data', 'pull', 'down'], { env });
  expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
  expect(pulled.stdout).toMatch(/^\S+ down: ok — 1 file, 1000 B in /m);
  expect(pulled.stdout).toMatch(/^data\.down\s+pull\s+ok\s+1\s+1000 B\s/m);
  expect(JSON.parse(readFileSync(l.path('.labsync/state.json'), 'utf8')).pairs.down).toMatchObject({ files: 1, bytes: 1000 });
}

describe('reported sizes', () => {
  it('rsync: a push and a pull report the bytes of the files they moved', async () => {
    await expectTrueSizes(lab('  store: { type: local, path: ../nas }', 'rsync'));
  });

  describe.skipIf(!s3)('against S3 (moto on 127.0.0.1)', () => {
    const server = s3 as S3Server;
    const remotes = (bucket: string): string => `  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`;

    it('aws: 8 known-size files pushed off a terminal report their sum, not 0 B; a pull the same', async () => {
      const l = lab('', 'aws');
      const bucket = await makeBucket(server, l.env);
      const text = readFileSync(l.path('labsync.yaml'), 'utf8').replace('remotes:\n', `remotes:\n${remotes(bucket)}`);
      l.manifest(text);
      await expectTrueSizes(l, S3_KEYS);
    }, 240_000); // seven runs of a Python CLI on a shared 2-core machine

    it('rclone: a push and a pull report the bytes of the files they moved', async () => {
      const l = lab('', 'rclone');
      const bucket = await makeBucket(server, l.env);
      l.manifest(readFileSync(l.path('labsync.yaml'), 'utf8').replace('remotes:\n', `remotes:\n${remotes(bucket)}`));
      await expectTrueSizes(l, S3_KEYS);
    });
  });
});
