// `plan --save` and `apply` against the real tools: rsync local and over the test sshd, aws and rclone
// against moto. A saved plan is carried out exactly; a stale one, or one for another manifest, changes
// nothing. Counted (files, commands, exit codes), never timed.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab, type CliResult } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';
import { type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';

const ssh = inject('sshHost');
const s3 = inject('s3');

interface Pair { status: string; error: string | null; files: number; commands: string[]; changes?: { transfer: string[]; delete: string[] }; verify: { status: string } | null }
const pairOf = (r: CliResult): Pair => (json<{ pairs: Pair[] }>(r).pairs[0] as Pair);
interface Saved { action: string; manifest: { sha256: string }; pairs: { name: string; fingerprint: string; send: { path: string }[]; replace: { path: string }[]; delete: { path: string }[]; guard: { verdict: string; reason?: string }; sourceDigest: string; destDigest: string }[] }
const readPlan = (file: string): Saved => JSON.parse(readFileSync(file, 'utf8')) as Saved;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const paths = (l: readonly { path: string }[]): string[] => l.map((f) => f.path).sort();

function receiptsOf(lab: Lab): Record<string, unknown>[] {
  const dir = lab.path('.labsync', 'receipts');
  return readdirSync(dir).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

/** A mirror push with one new file, one replaced and one deleted at the destination, then saved and applied. */
async function saveAndApply(lab: Lab, dest: () => Promise<Record<string, string>>, putAtDest: (path: string, content: string) => Promise<void>, env: Record<string, string> = {}, seen: (content: string) => string = (c) => c): Promise<void> {
  lab.write(lab.path('raw/keep'), 'keep').write(lab.path('raw/sub/change'), 'old');
  expect((await lab.cli(['data', 'push'], { env })).exitCode).toBe(0);
  lab.write(lab.path('raw/sub/change'), 'new content').write(lab.path('raw/added'), 'added');
  await putAtDest('gone', 'only at the destination');

  const save = await lab.cli(['plan', 'data', 'push', '--save', 'plan.json'], { env });
  expect(save.exitCode, save.stdout + save.stderr).toBe(0);
  expect(save.stdout).toMatch(/plan [0-9a-f]{12} written to plan\.json: 1 to send, 1 to replace, 1 to delete/);
  // Saving changed nothing: the destination still holds what it held.
  expect(await dest()).toMatchObject({ keep: seen('keep'), 'sub/change': seen('old'), gone: seen('only at the destination') });
  const plan = readPlan(lab.path('plan.json'));
  expect(plan.pairs[0]).toMatchObject({ name: 'raw', guard: { verdict: 'ok' } });
  expect(readFileSync(lab.path('plan.json'), 'utf8')).not.toContain(S3_KEYS.AWS_SECRET_ACCESS_KEY);
  expect([paths(plan.pairs[0]?.send ?? []), paths(plan.pairs[0]?.replace ?? []), paths(plan.pairs[0]?.delete ?? [])]).toEqual([['added'], ['sub/change'], ['gone']]);

  const applied = await lab.cli(['apply', 'plan.json', '--json'], { env });
  expect(applied.exitCode, applied.stdout + applied.stderr).toBe(0);
  expect(pairOf(applied)).toMatchObject({ status: 'ok', files: 2, changes: { transfer: ['added', 'sub/change'], delete: ['gone'] }, verify: { status: 'in_sync' } });
  expect(await dest()).toEqual({ keep: seen('keep'), 'sub/change': seen('new content'), added: seen('added') });
  const receipt = receiptsOf(lab).at(-1);
  expect(receipt).toMatchObject({ pair: 'raw', status: 'ok', action: 'push' });
  expect(receipt?.appliedPlan).toMatch(/^[0-9a-f]{64}$/);

  // The same plan again: the destination no longer lists as it did. Nothing runs.
  const again = await lab.cli(['apply', 'plan.json', '--json'], { env });
  expect(again.exitCode).toBe(3);
  expect(pairOf(again).error).toMatch(/the plan is stale: the destination \(.*\) changed since it was made; nothing was changed/);
}

/** A plan made, then one side changed: apply exits 3 and neither side changes. */
async function staleBy(lab: Lab, change: () => Promise<void>, sides: () => Promise<unknown>, side: 'source' | 'destination', env: Record<string, string> = {}): Promise<void> {
  lab.write(lab.path('raw/later'), 'later');
  expect((await lab.cli(['plan', 'data', 'push', '--save', 'stale.json'], { env })).exitCode).toBe(0);
  await change();
  const before = await sides();
  const r = await lab.cli(['apply', 'stale.json', '--json'], { env });
  expect(r.exitCode, r.stdout + r.stderr).toBe(3);
  expect(pairOf(r)).toMatchObject({ status: 'refused', files: 0 });
  expect(pairOf(r).error).toMatch(new RegExp(`the plan is stale: the ${side} \\(.*\\) changed since it was made`));
  expect(await sides()).toEqual(before);
}

describe('plan --save and apply: rsync to a local folder', () => {
  const setup = (extra = ''): Lab => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    delete: true\n${extra}`);
    return lab;
  };

  it('apply moves exactly the saved plan, says so in the receipt, and refuses the same plan twice', async () => {
    const lab = setup();
    await saveAndApply(lab, async () => lab.tree(lab.outside('nas')), async (p, c) => void lab.write(lab.outside('nas', p), c));
  });

  it('a file changed on either side after the plan was made: exit 3, nothing changed on either side', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'a');
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const both = async (): Promise<unknown> => [lab.tree(lab.path('raw')), lab.tree(lab.outside('nas'))];
    await staleBy(lab, async () => void lab.write(lab.path('raw/a'), 'A, edited after the plan'), both, 'source');
    await staleBy(lab, async () => void lab.write(lab.outside('nas', 'a'), 'edited at the destination'), both, 'destination');
  });

  it('a file edited in place after the plan, keeping its size and mtime: apply moves only the planned files and reports the drift (exit 4), never sends it unreviewed', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'aaaa');
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    lab.write(lab.path('raw/added'), 'added');
    expect((await lab.cli(['plan', 'data', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    // The listing the plan's digest covers (size, mtime) is unchanged: the plan is not stale.
    // touch -r: the mtime to the nanosecond (a Date would round it to the millisecond).
    execFileSync('touch', ['-r', lab.path('raw/a'), lab.outside('a-times')]);
    lab.write(lab.path('raw/a'), 'bbbb');
    execFileSync('touch', ['-r', lab.outside('a-times'), lab.path('raw/a')]);
    const r = await lab.cli(['apply', 'plan.json', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(4);
    expect(pairOf(r)).toMatchObject({ status: 'drift', changes: { transfer: ['added'], delete: [] } });
    expect(pairOf(r).error).toMatch(/changed.*a.*apply moves only the files its plan lists/s);
    expect(lab.tree(lab.outside('nas'))).toEqual({ a: 'aaaa', added: 'added' });
  });

  it('a plan for another manifest or another pair is exit 2 before anything runs', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'a');
    expect((await lab.cli(['plan', 'data', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    const plan = readPlan(lab.path('plan.json'));

    writeFileSync(lab.path('other.json'), JSON.stringify({ ...plan, pairs: [{ ...plan.pairs[0], name: 'elsewhere' }] }));
    const unknown = await lab.cli(['apply', 'other.json']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/other\.json: pair elsewhere is not in labsync\.yaml; nothing was run/);
    writeFileSync(lab.path('other.json'), JSON.stringify({ ...plan, pairs: [{ ...plan.pairs[0], fingerprint: 'f'.repeat(64) }] }));
    const changed = await lab.cli(['apply', 'other.json']);
    expect(changed.exitCode).toBe(2);
    expect(changed.stderr).toMatch(/other\.json: pair data\.raw in labsync\.yaml is not the pair the plan was made for/);
    writeFileSync(lab.path('other.json'), JSON.stringify({ ...plan, action: 'pull' }));
    expect((await lab.cli(['apply', 'other.json'])).exitCode).toBe(2);

    // The manifest edited after the plan was made: another manifest.
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('retries: 0', 'retries: 1'));
    const other = await lab.cli(['apply', 'plan.json', '--json']);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toMatch(/plan\.json was made for another manifest \(labsync\.yaml, sha256 [0-9a-f]{12}\), not labsync\.yaml as it is now/);
    expect(json<{ ok: boolean }>(other).ok).toBe(false);
    expect(lab.tree(lab.outside()).nas).toBeUndefined();
  });

  it('a file that is not a plan, or not there, is exit 2 naming it', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'a').write(lab.path('broken.json'), '{"labsyncPlan": 1, ').write(lab.path('other.json'), '{"name": "x"}');
    const broken = await lab.cli(['apply', 'broken.json']);
    expect([broken.exitCode, broken.stderr]).toEqual([2, expect.stringMatching(/^labsync: broken\.json: not valid JSON/)]);
    const other = await lab.cli(['apply', 'other.json']);
    expect([other.exitCode, other.stderr]).toEqual([2, expect.stringMatching(/^labsync: other\.json: not a labsync plan/)]);
    const none = await lab.cli(['apply', 'none.json']);
    expect([none.exitCode, none.stderr]).toEqual([2, expect.stringMatching(/^labsync: none\.json: cannot read the plan \(ENOENT\)/)]);
    const unwritable = await lab.cli(['plan', '--save', lab.path('raw/a/under-a-file.json')]);
    expect([unwritable.exitCode, unwritable.stderr]).toEqual([2, expect.stringMatching(/--save .*under-a-file\.json: cannot write the plan there/)]);
  });

  it('the guard\'s verdict is recorded and honoured: a refused plan is never applied; a plan under a raised max_delete is', async () => {
    const lab = setup('    max_delete: 1\n');
    lab.write(lab.path('raw/keep'), 'k');
    for (const f of ['x', 'y', 'z']) lab.write(lab.outside('nas', f), f);
    const save = await lab.cli(['plan', '--save', 'plan.json']);
    expect(save.exitCode).toBe(3);
    expect(save.stdout).toMatch(/the guard refused raw: `labsync apply plan\.json` will refuse it too/);
    expect(readPlan(lab.path('plan.json')).pairs[0]?.guard).toEqual({ verdict: 'refused', reason: expect.stringMatching(/would delete 3 of 3 files at the destination/) });
    const before = lab.tree(lab.outside('nas'));
    const refused = await lab.cli(['apply', 'plan.json', '--json']);
    expect(refused.exitCode).toBe(3);
    expect(pairOf(refused).error).toMatch(/the guard refused this plan when it was made \(would delete 3 of 3 files/);
    expect(lab.tree(lab.outside('nas'))).toEqual(before);

    // The override is the manifest's: raised, the old plan is for another manifest; a new plan applies.
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('max_delete: 1', 'max_delete: 3'));
    expect((await lab.cli(['apply', 'plan.json'])).exitCode).toBe(2);
    expect((await lab.cli(['plan', '--save', 'plan.json'])).exitCode).toBe(0);
    const applied = await lab.cli(['apply', 'plan.json']);
    expect(applied.exitCode, applied.stdout + applied.stderr).toBe(0);
    expect(lab.tree(lab.outside('nas'))).toEqual({ keep: 'k' });
  });

  it('a plan saved inside the pair\'s own folder (local: .) is left out of its listings: apply goes ahead, the plan file is never sent; apply --tag is exit 2', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: here\n    local: .\n    remote: "file://${lab.outside('nas')}"\n    exclude: ["/labsync.yaml"]\n`);
    lab.write(lab.path('a.csv'), 'a');
    // An old plan lies where the new one goes: neither is planned as data.
    lab.write(lab.path('plan.json'), '{}');
    expect((await lab.cli(['plan', 'data', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    expect(paths(readPlan(lab.path('plan.json')).pairs[0]?.send ?? [])).toEqual(['a.csv']);
    const tagged = await lab.cli(['apply', 'plan.json', '--tag', 'nightly']);
    expect([tagged.exitCode, tagged.stderr]).toEqual([2, expect.stringMatching(/apply carries out the whole saved plan; --tag nightly would be ignored/)]);
    const r = await lab.cli(['apply', 'plan.json', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect(lab.tree(lab.outside('nas'))).toEqual({ 'a.csv': 'a' });
    // The manifest named through a link (/home/u → /gpfs/u on a cluster), the plan by the real working folder.
    symlinkSync(lab.path(), lab.outside('link'));
    lab.write(lab.path('b.csv'), 'b');
    const viaLink = ['-c', `${lab.outside('link')}/labsync.yaml`];
    expect((await lab.cli(['plan', 'data', 'push', '--save', 'plan.json', ...viaLink])).exitCode).toBe(0);
    expect(paths(readPlan(lab.path('plan.json')).pairs[0]?.send ?? [])).toEqual(['b.csv']);
    const linked = await lab.cli(['apply', 'plan.json', ...viaLink]);
    expect(linked.exitCode, linked.stdout + linked.stderr).toBe(0);
  });

  it('apply runs as a run does: a pull plan, --dry-run moves nothing, a held lock is exit 75, the after hook runs', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n    mode: pull\n    hooks:\n      after: ["sh", "-c", "echo $LABSYNC_STATUS $LABSYNC_FILES >> ${lab.outside('hook.log')}"]\n`);
    lab.write(lab.outside('nas', 'a'), 'a').write(lab.outside('nas', 'd/b'), 'b').write(lab.path('raw/here'), 'kept: not a mirror');
    expect((await lab.cli(['plan', '--save', 'pull.json'])).exitCode).toBe(0);
    expect(readPlan(lab.path('pull.json'))).toMatchObject({ action: 'sync', pairs: [{ direction: 'pull', send: [{ path: 'a' }, { path: 'd/b' }], delete: [] }] });
    const dry = await lab.cli(['apply', 'pull.json', '--dry-run', '--json']);
    expect(dry.exitCode).toBe(0);
    expect(pairOf(dry).status).toBe('planned');
    expect(lab.tree(lab.path('raw'))).toEqual({ here: 'kept: not a mirror' });

    const lock = { pid: 1, host: 'another-host', bootId: '', startedAt: new Date().toISOString(), command: 'data pull' };
    lab.write(lab.path('.labsync/locks/raw.lock'), JSON.stringify(lock));
    const locked = await lab.cli(['apply', 'pull.json', '--json']);
    expect(locked.exitCode).toBe(75);
    expect(pairOf(locked)).toMatchObject({ status: 'locked', commands: [] });
    rmSync(lab.path('.labsync/locks/raw.lock'));

    const r = await lab.cli(['apply', 'pull.json', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync' } });
    expect(lab.tree(lab.path('raw'))).toEqual({ a: 'a', 'd/b': 'b', here: 'kept: not a mirror' });
    expect(readFileSync(lab.outside('hook.log'), 'utf8')).toBe('ok 2\n');
    expect(receiptsOf(lab).at(-1)).toMatchObject({ action: 'sync', status: 'ok', appliedPlan: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('a folder labsync cannot list as plain files (a symlink in it) is refused at plan --save and at apply, nothing written or changed', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'a');
    expect((await lab.cli(['plan', '--save', 'plan.json'])).exitCode).toBe(0);
    symlinkSync('a', lab.path('raw/link'));
    const applied = await lab.cli(['apply', 'plan.json', '--json']);
    expect(applied.exitCode).toBe(3);
    expect(pairOf(applied).error).toMatch(/data\.raw cannot be planned ahead: rsync compares .* by itself here .*; nothing was changed/);
    expect(existsSync(lab.outside('nas'))).toBe(false);
    const saved = await lab.cli(['plan', '--save', 'again.json']);
    expect(saved.exitCode).toBe(3);
    expect(saved.stderr).toMatch(/no plan written to again\.json: raw could not be planned/);
    expect(existsSync(lab.path('again.json'))).toBe(false);
  });

  it('pairs whose tool has no listing (git) are refused at plan --save, naming the pair; plan without --save prints commands', async () => {
    const lab = setup();
    lab.write(lab.path('raw/a'), 'a');
    writeFileSync(lab.path('labsync.yaml'), `${readFileSync(lab.path('labsync.yaml'), 'utf8')}code:\n  - name: repo\n    tool: git\n    local: .\n    remote: "file://${lab.outside('origin.git')}"\n`);
    const r = await lab.cli(['plan', '--save', 'plan.json']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/plan --save: code\.repo \(git, (push|bisync)\) cannot be planned ahead/);
    expect(() => readFileSync(lab.path('plan.json'))).toThrow();
    expect((await lab.cli(['plan', 'data', '--save', 'plan.json'])).exitCode).toBe(0);
    const commands = await lab.cli(['plan', 'data']);
    expect(commands.exitCode).toBe(0);
    expect(commands.stdout).toMatch(/^rsync .*# transfer: exactly the files the plan lists/m);
  });
});

describe.skipIf(!ssh)('plan --save and apply: rsync over ssh (test sshd)', () => {
  const host = ssh as SshHost;
  const setup = (): Lab => {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: '    delete: true\n' }));
    return lab;
  };

  it('apply moves exactly the saved plan; a file changed on the host after the plan: exit 3, nothing changed', async () => {
    const lab = setup();
    await saveAndApply(lab, async () => lab.tree(lab.outside('gpu', 'raw')), async (p, c) => void lab.write(lab.outside('gpu', 'raw', p), c));
    const both = async (): Promise<unknown> => [lab.tree(lab.path('raw')), lab.tree(lab.outside('gpu', 'raw'))];
    await staleBy(lab, async () => void lab.write(lab.outside('gpu', 'raw', 'keep'), 'edited on the host'), both, 'destination');
  });

  it('the ssh key written again between plan and apply (a CI job per step) is the same pair: apply goes ahead', async () => {
    const lab = new Lab();
    // The pair's own copy of the key: a CI secret written to a file in each job.
    const key = lab.outside('ci-key');
    writeFileSync(key, readFileSync(host.identity), { mode: 0o600 });
    lab.manifest(sshPairManifest(host, lab).split(host.identity).join(key));
    lab.write(lab.path('raw/a'), 'a');
    expect((await lab.cli(['plan', 'data', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    rmSync(key);
    writeFileSync(key, readFileSync(host.identity), { mode: 0o600 });
    const r = await lab.cli(['apply', 'plan.json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(lab.tree(lab.outside('gpu', 'raw'))).toEqual({ a: 'a' });
  });
});

describe.skipIf(!s3)('plan --save and apply: aws and rclone against moto', () => {
  const server = s3 as S3Server;
  const setup = async (tool: string): Promise<{ lab: Lab; bucket: string }> => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, tool, '    delete: true\n'));
    return { lab, bucket };
  };
  /** key → MD5 of its content, from one listing (these small single-part uploads have MD5 ETags). */
  const objects = async (lab: Lab, bucket: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    const listed = JSON.parse((await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'lab/raw/', '--output', 'json'])) || '{}') as { Contents?: { Key: string; ETag: string }[] };
    for (const o of listed.Contents ?? []) {
      const key = o.Key.replace(/^lab\/raw\//, '');
      if (!key.startsWith('.labsync-backup/')) out[key] = o.ETag.replace(/"/g, '');
    }
    return out;
  };
  const put = (lab: Lab, bucket: string) => async (key: string, content: string): Promise<void> => {
    const f = lab.outside(`put-${key.replace(/\//g, '_')}`);
    writeFileSync(f, content);
    await awsCli(server, lab.env, ['s3', 'cp', f, `s3://${bucket}/lab/raw/${key}`]);
  };

  // A dozen labsync and aws runs each; on a loaded 2-core machine they outlast the default 90 s.
  for (const tool of ['aws', 'rclone']) {
    it(`${tool}: apply moves exactly the saved plan; a change in the bucket or here after the plan: exit 3, nothing changed`, async () => {
      const { lab, bucket } = await setup(tool);
      await saveAndApply(lab, () => objects(lab, bucket), put(lab, bucket), S3_KEYS, md5);
      const both = async (): Promise<unknown> => [lab.tree(lab.path('raw')), await objects(lab, bucket)];
      await staleBy(lab, () => put(lab, bucket)('keep', 'edited in the bucket'), both, 'destination', S3_KEYS);
      await staleBy(lab, async () => void lab.write(lab.path('raw/keep'), 'edited here'), both, 'source', S3_KEYS);
    }, 300_000);
  }
});
