// A dry run and `status` name the files: what would be sent, replaced and deleted, per pair.
import { execa } from 'execa';
import { unlinkSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { BIN, json, Lab, type CliResult } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';

const s3 = inject('s3');
interface Doc { pairs: { status: string; changes?: { transfer: string[]; replace?: string[]; delete: string[] } }[] }

const NEW = Array.from({ length: 25 }, (_, i) => `new/n${String(i).padStart(2, '0')}.csv`);

/** keep.csv stays, old.csv changes size, gone.csv is deleted here, 25 new files: on a mirror pair. */
async function drifted(remotes: string, tool: string, env: Record<string, string> = {}): Promise<Lab> {
  const lab = new Lab().manifest(`version: 1
defaults:
  retries: 0
remotes:
${remotes}
data:
  - { name: raw, tool: ${tool}, local: raw, remote: "store:raw", delete: true }
`);
  lab.write(lab.path('raw/keep.csv'), 'keep\n').write(lab.path('raw/old.csv'), 'v1\n').write(lab.path('raw/gone.csv'), 'gone\n');
  const first = await lab.cli(['data', 'push'], { env });
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  lab.write(lab.path('raw/old.csv'), 'version two\n');
  unlinkSync(lab.path('raw/gone.csv'));
  for (const n of NEW) lab.write(lab.path('raw', n), `${n}\n`);
  return lab;
}

const lines = (text: string, verb: string): string[] => text.split('\n').filter((l) => l.startsWith(`  ${verb} `)).map((l) => l.slice(2 + 9));

function expectNamed(r: CliResult, stream: 'stdout' | 'stderr', all: boolean): void {
  const text = r[stream];
  expect(lines(text, 'send')).toEqual(all ? NEW : NEW.slice(0, 20));
  expect(text.includes('  … and 5 more to send')).toBe(!all);
  expect(lines(text, 'replace')).toEqual(['old.csv']);
  expect(lines(text, 'delete')).toEqual(['gone.csv']);
  // The names follow their pair's line, after its summary.
  expect(text.indexOf('raw: ')).toBeLessThan(text.indexOf('  send '));
}

async function expectDryRunNames(lab: Lab, env: Record<string, string> = {}): Promise<void> {
  const remoteBefore = await lab.cli(['data', 'status', '--json'], { env });
  const dry = await lab.cli(['data', 'push', '--dry-run'], { env });
  expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0);
  expectNamed(dry, 'stdout', false);
  const all = await lab.cli(['data', 'push', '--dry-run', '-v'], { env });
  expectNamed(all, 'stdout', true);
  // --json keeps the full lists.
  const doc = json<Doc>(await lab.cli(['data', 'push', '--dry-run', '--json'], { env }));
  expect(doc.pairs[0]?.changes?.transfer.slice().sort()).toEqual([...NEW, 'old.csv'].sort());
  expect(doc.pairs[0]?.changes?.replace).toEqual(['old.csv']);
  expect(doc.pairs[0]?.changes?.delete).toEqual(['gone.csv']);
  // status: what differs, the same names (drift goes to stderr off a terminal).
  const status = await lab.cli(['data', 'status'], { env });
  expect(status.exitCode).toBe(4);
  expectNamed(status, 'stderr', false);
  // Nothing was changed by any of it.
  const sorted = (r: CliResult): string[][] => {
    const c = json<Doc>(r).pairs[0]?.changes;
    return [c?.transfer ?? [], c?.replace ?? [], c?.delete ?? []].map((l) => [...l].sort());
  };
  expect(sorted(await lab.cli(['data', 'status', '--json'], { env }))).toEqual(sorted(remoteBefore));
}

describe('a dry run names the files', () => {
  it('rsync: sends, replacements and deletions, the first 20 of each, all with -v; --json and status the same', async () => {
    await expectDryRunNames(await drifted('  store: { type: local, path: ../nas }', 'rsync'));
  });

  it('a name holding a newline or a terminal escape cannot forge an output line', async () => {
    const lab = new Lab().manifest('version: 1\nremotes:\n  store: { type: local, path: ../nas }\ndata:\n  - { name: raw, local: raw, remote: "store:raw" }\n');
    lab.write(lab.path('raw/x\n2026-01-01T00:00:00Z raw: ok'), 'a').write(lab.path('raw/red\u001b[31m.csv'), 'b');
    const dry = await lab.cli(['data', 'push', '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).not.toMatch(/^2026-01-01/m);
    expect(dry.stdout).not.toContain('\u001b');
    expect(lines(dry.stdout, 'send').sort()).toEqual(['\\red\\x1b[31m.csv', '\\x\\n2026-01-01T00:00:00Z raw: ok']);
  });

  it('in a terminal: the names under the pair, deletions in red', async () => {
    const lab = await drifted('  store: { type: local, path: ../nas }', 'rsync');
    const command = `stty cols 120 rows 40; ${[process.execPath, BIN, 'data', 'push', '--dry-run'].map((w) => `'${w}'`).join(' ')}`;
    const r = await execa('script', ['-qec', command, '/dev/null'], { cwd: lab.path(), env: { ...lab.env, TERM: 'xterm-256color' }, extendEnv: false, reject: false, timeout: 60_000 });
    const out = String(r.stdout);
    expect(out).toContain('\u001b[31m  delete   gone.csv');
    expect(out).toContain('  replace  old.csv');
    expect(out).toContain('  … and 5 more to send');
  });

  describe.skipIf(!s3)('against S3 (moto on 127.0.0.1)', () => {
    const server = s3 as S3Server;
    const remotes = (bucket: string): string => `  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`;

    it('aws: the same lists', async () => {
      const bucket = await makeBucket(server, new Lab().env);
      await expectDryRunNames(await drifted(remotes(bucket), 'aws', S3_KEYS), S3_KEYS);
    }, 300_000); // a dozen runs of a Python CLI on a shared 2-core machine

    it('rclone: the same lists', async () => {
      const bucket = await makeBucket(server, new Lab().env);
      await expectDryRunNames(await drifted(remotes(bucket), 'rclone', S3_KEYS), S3_KEYS);
    }, 180_000);
  });
});
