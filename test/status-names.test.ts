// `labsync status NAME...` and `--tag`: the same selection as every other command, --max-age over it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { sshRemote, type SshHost } from './harness/sshd.js';

const ssh = inject('sshHost');

interface StatusDoc { ok: boolean; pairs: { name: string; stale: boolean; lastRun: { status: string } | null }[] }

function twoPairs(): Lab {
  const lab = new Lab().manifest(`version: 1
defaults:
  retries: 0
remotes:
  nas: { type: local, path: ../nas }
data:
  - { name: fresh, local: fresh, remote: "nas:fresh", tags: [nightly] }
  - { name: never, local: never, remote: "nas:never" }
`);
  lab.write(lab.path('fresh/a.csv'), 'a\n').write(lab.path('never/b.csv'), 'b\n');
  return lab;
}

describe('status NAME...', () => {
  it('reports only the named pairs, and --max-age judges only them', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    // The pair that never ran is not asked about: fresh alone is within an hour.
    const named = await lab.cli(['status', 'fresh', '--max-age', '1h', '--json']);
    expect(named.exitCode, named.stderr).toBe(0);
    expect(json<StatusDoc>(named).pairs.map((p) => p.name)).toEqual(['fresh']);
    const plain = await lab.cli(['status', 'fresh', '--max-age', '1h']);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toMatch(/data\.fresh/);
    expect(plain.stdout).not.toMatch(/data\.never/);
    // Named, the stale one fails the check; both named, in manifest order.
    const both = await lab.cli(['status', 'never', 'fresh', '--max-age', '1h', '--json']);
    expect(both.exitCode).toBe(1);
    expect(json<StatusDoc>(both).pairs.map((p) => [p.name, p.stale])).toEqual([['fresh', false], ['never', true]]);
    const told = await lab.cli(['status', 'never', 'fresh', '--max-age', '1h']);
    expect(told.exitCode).toBe(1);
    expect(told.stderr).toContain('never: last success never, older than --max-age 1h');
    expect(told.stderr).not.toContain('fresh: last success');
  });

  it('--tag selects too, and applies --max-age to the selection', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    const tagged = await lab.cli(['status', '--tag', 'nightly', '--max-age', '1h', '--json']);
    expect(tagged.exitCode).toBe(0);
    expect(json<StatusDoc>(tagged).pairs.map((p) => p.name)).toEqual(['fresh']);
    // A tag no pair carries (a typo in a cron line) is a usage error naming the tags, not an empty success.
    for (const args of [['status', '--tag', 'nightli', '--max-age', '1h'], ['sync', '--tag', 'nightli']]) {
      const typo = await lab.cli(args);
      expect(typo.exitCode, args.join(' ')).toBe(2);
      expect(typo.stderr).toContain("no pair has the tag 'nightli'; tags in the manifest: nightly");
    }
    // The tag is there, but not on what the names or category pick: as much a typo.
    for (const [args, said] of [[['status', 'never', '--tag', 'nightly', '--max-age', '1h'], 'none of the pairs named never has'], [['models', 'push', '--tag', 'nightly'], 'none of the models pairs has'], [['receipts', '--tag', 'nightli'], "no pair has the tag 'nightli'"]] as const) {
      const r = await lab.cli([...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(said);
    }
    expect(await lab.cli(['status', 'never', '--tag', 'nightly'])).toMatchObject({ stderr: expect.stringContaining("the tag 'nightly'; it is on data.fresh") });
  });

  it('an unknown name is a usage error (exit 2) naming the known pairs; nothing is printed as a table', async () => {
    const lab = twoPairs();
    const r = await lab.cli(['status', 'frsh']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown name 'frsh'; pairs in the manifest: fresh, never");
    expect(r.stdout).toBe('');
  });

  it('a damaged receipt or state record (a field missing) is left out: status and receipts answer, no internal error', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    const dir = lab.path('.labsync/receipts');
    const [good] = readdirSync(dir);
    const doc = JSON.parse(readFileSync(`${dir}/${good as string}`, 'utf8')) as Record<string, unknown>;
    delete doc.action;
    writeFileSync(`${dir}/2020-01-01T00-00-00.000Z-fresh.json`, JSON.stringify(doc));
    const state = JSON.parse(readFileSync(lab.path('.labsync/state.json'), 'utf8')) as { pairs: Record<string, Record<string, unknown>> };
    delete (state.pairs.fresh as Record<string, unknown>).finishedAt;
    writeFileSync(lab.path('.labsync/state.json'), JSON.stringify(state));
    for (const args of [['receipts'], ['status'], ['receipts', 'fresh']]) {
      const r = await lab.cli(args);
      expect(r.stderr, args.join(' ')).not.toMatch(/internal error/);
      expect([0, 1], args.join(' ')).toContain(r.exitCode);
    }
  });

  it('a shard receipt without its duration (its end cannot be told) is left out: status and check answer, no internal error', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    const dir = lab.path('.labsync/receipts');
    const { durationMs: _gone, ...doc } = JSON.parse(readFileSync(`${dir}/${readdirSync(dir)[0] as string}`, 'utf8')) as Record<string, unknown>;
    for (const index of [0, 1]) writeFileSync(`${dir}/2099-01-01T00-00-0${index}.000Z-fresh.shard-${index}-of-2.json`, JSON.stringify({ ...doc, shard: { index, count: 2, run: 'r' } }));
    for (const args of [['status'], ['check', 'fresh']]) {
      const r = await lab.cli(args);
      expect(r.stderr, args.join(' ')).not.toMatch(/internal error/);
      expect(r.exitCode, args.join(' ')).toBe(0);
    }
  });

  it('status reads no receipt when none is a shard\'s (it parsed every one: 3.3 s at 20,000)', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    // A receipt that cannot be read at all (a FIFO blocks whoever opens it): status must not open it.
    execFileSync('mkfifo', [lab.path('.labsync/receipts/2099-01-01T00-00-00.000Z-fresh.json')]);
    const r = await lab.cli(['status', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<StatusDoc>(r).pairs.map((p) => p.name)).toEqual(['fresh', 'never']);
  }, 20_000);

  it('with a split pair, status and check read only that pair\'s receipts (another pair\'s are never opened)', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    const dir = lab.path('.labsync/receipts');
    const doc = JSON.parse(readFileSync(`${dir}/${readdirSync(dir)[0] as string}`, 'utf8')) as Record<string, unknown>;
    for (const index of [0, 1]) writeFileSync(`${dir}/2099-01-01T00-00-0${index}.000Z-fresh.shard-${index}-of-2.json`, JSON.stringify({ ...doc, shard: { index, count: 2, run: 'r1' } }));
    // Another pair's receipt that cannot be read at all (a FIFO blocks whoever opens it).
    execFileSync('mkfifo', [`${dir}/2099-01-01T00-00-00.000Z-never.json`]);
    const r = await lab.cli(['status', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<StatusDoc & { pairs: { shards?: { complete: boolean } }[] }>(r).pairs[0]?.shards).toMatchObject({ complete: true });
    expect((await lab.cli(['check', 'fresh'])).exitCode).toBe(0);
  }, 20_000);

  it('a pair whose remote was edited since its last run has no last run: --max-age is stale until the new remote was written', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('remote: "nas:fresh"', 'remote: "nas:fresh2"'));
    const r = await lab.cli(['status', 'fresh', '--max-age', '1h', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<StatusDoc>(r).pairs[0]).toMatchObject({ name: 'fresh', stale: true, lastRun: null });
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    expect((await lab.cli(['status', 'fresh', '--max-age', '1h'])).exitCode).toBe(0);
  });

  it('a remotes: entry edited (the usual way to move a remote) counts as other ends, for state and for shard receipts alike', async () => {
    const lab = twoPairs();
    expect((await lab.cli(['data', 'push', 'fresh'])).exitCode).toBe(0);
    // Two shard receipts of the same ends (a split run, both ok), as `sync --shard K/2` writes them.
    const dir = lab.path('.labsync/receipts');
    const doc = JSON.parse(readFileSync(`${dir}/${readdirSync(dir)[0] as string}`, 'utf8')) as Record<string, unknown>;
    for (const index of [0, 1]) writeFileSync(`${dir}/2099-01-01T00-00-0${index}.000Z-fresh.shard-${index}-of-2.json`, JSON.stringify({ ...doc, startedAt: new Date().toISOString(), shard: { index, count: 2, run: 'r1' } }));
    expect((await lab.cli(['status', 'fresh', '--max-age', '1h'])).exitCode).toBe(0);
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('path: ../nas }', 'path: ../nas2 }'));
    const r = await lab.cli(['status', 'fresh', '--max-age', '1h', '--json']);
    expect(r.exitCode, r.stdout).toBe(1);
    expect(json<StatusDoc>(r).pairs[0]).toMatchObject({ name: 'fresh', stale: true, lastRun: null });
  });

  it.skipIf(!ssh)('an ssh pair (its connection kept between runs, as by default) has its last run: the kept connection is not where the remote is', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  gpu: ${sshRemote(ssh as SshHost, lab.outside('far'))}\ndata:\n  - { name: raw, local: raw, remote: "gpu:raw" }\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n');
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const r = await lab.cli(['status', '--max-age', '1h', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<StatusDoc>(r).pairs[0]).toMatchObject({ name: 'raw', stale: false, lastRun: { status: 'ok' } });
  });

  it('the state file keeps no secret of the remote\'s words (a token in a URL or path is redacted before its ends are kept)', async () => {
    const secret = 'hf_SecretValue1234567890';
    const lab = new Lab();
    lab.manifest(`version: 1\ndata:\n  - { name: raw, local: raw, remote: "file://${lab.outside('nas')}-\${HF_TOKEN}/raw" }\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n');
    const r = await lab.cli(['data', 'push'], { env: { HF_TOKEN: secret } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(lab.path('.labsync/state.json'), 'utf8')).not.toContain(secret);
    expect((await lab.cli(['status', '--max-age', '1h'], { env: { HF_TOKEN: secret } })).exitCode).toBe(0);
  });
});
