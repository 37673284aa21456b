// rclone bisync by version: conflict policies, recovery after a kill and --compare on a current rclone
// (≥ 1.66), and their refusal on Debian's 1.60. scripts/test.sh runs this file once with each rclone
// (LABSYNC_RCLONE); the cases for the other version say why they skip.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { bisyncLab } from './harness/bisync.js';
import { killExact, processesMentioning } from './harness/processes.js';
import { rcloneUnderTest } from './harness/tools.js';
import { until } from './harness/wait.js';

const rclone = rcloneUnderTest();
interface Doc { pairs: { status: string; error: string | null; hint?: string; warnings: string[] }[] }


async function succeeds(lab: Lab, args: string[]): Promise<void> {
  const r = await lab.cli([...args, '--json']);
  expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
}

/** Rewrites a file with other bytes of the same size, keeping its mtime: only a checksum tells. */
function sameSizeSameTime(path: string, content: string): void {
  const { atime, mtime, size } = statSync(path);
  expect(Buffer.byteLength(content)).toBe(size);
  writeFileSync(path, content);
  utimesSync(path, atime, mtime);
}

describe.skipIf(!rclone.modern)(`rclone ${rclone.version} bisync (current rclone)`, () => {
  it('conflict: newer keeps the newer copy under its name and the other beside it, naming both', async () => {
    const lab = bisyncLab('    conflict: newer\n');
    expect((await lab.cli(['validate'])).exitCode).toBe(0);
    await succeeds(lab, ['sync', '--resync']);
    lab.write(lab.path('notes/c'), 'local, older');
    utimesSync(lab.path('notes/c'), new Date('2020-01-01'), new Date('2020-01-01'));
    lab.write(lab.outside('other/c'), 'remote, newer');
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]?.warnings).toContain('changed on both sides: c: kept the remote copy as c, the other as c.conflict1 (local)');
    expect(lab.tree(lab.path('notes'))).toMatchObject({ c: 'remote, newer', 'c.conflict1': 'local, older' });
    expect(lab.tree(lab.path('notes'))).toEqual(lab.tree(lab.outside('other')));
  });

  it('keep-both (the default) renames both copies and says which is which', async () => {
    const lab = bisyncLab();
    await lab.cli(['sync', '--resync']);
    lab.write(lab.path('notes/c'), 'local edit');
    lab.write(lab.outside('other/c'), 'remote edit');
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<Doc>(r).pairs[0]?.warnings).toContain('changed on both sides: c: kept both, as c.conflict1 (local) and c.conflict2 (remote)');
    expect(lab.tree(lab.path('notes'))).toMatchObject({ 'c.conflict1': 'local edit', 'c.conflict2': 'remote edit' });
    expect(lab.tree(lab.path('notes')).c).toBeUndefined();
  });

  it('killed mid-run (SIGKILL to labsync and rclone): the next run recovers without --resync and keeps a change from each side', async () => {
    const lab = bisyncLab('    bwlimit: 200K\n');
    await succeeds(lab, ['sync', '--resync']);
    lab.write(lab.path('notes/big'), randomBytes(3 * 1024 * 1024));
    const run = lab.spawn(['sync']);
    // Mid-transfer: rclone's temporary file for `big` has appeared on the other side.
    await until('the bisync transfer to be under way', () => readdirSync(lab.outside('other')).some((n) => n.endsWith('.partial')), 30_000);
    const [bisync] = processesMentioning(lab.outside('other')).filter((p) => p.cmdline.includes(' bisync '));
    expect(bisync).toBeDefined();
    killExact(run.pid as number, 'labsync', 'SIGKILL');
    killExact((bisync as { pid: number }).pid, ' bisync ', 'SIGKILL');
    await run;
    await until('rclone to be gone', () => !processesMentioning(lab.outside('other')).some((p) => p.cmdline.includes(' bisync ')));
    expect(readdirSync(lab.path('.labsync/bisync/shared')).some((n) => n.endsWith('.lck'))).toBe(true);

    lab.write(lab.path('notes/a'), 'changed here');
    lab.write(lab.outside('other/b'), 'changed there');
    const next = await lab.cli(['sync', '--json']);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(next.stderr).toMatch(/removed rclone's lock left by PID \d+, which is no longer running/);
    const here = lab.tree(lab.path('notes'));
    expect(here).toMatchObject({ a: 'changed here', b: 'changed there' });
    expect(readFileSync(lab.path('notes/big')).equals(readFileSync(lab.outside('other/big')))).toBe(true);
    // rclone's temporary file is never taken for data on either side.
    expect(Object.keys(here).filter((n) => n.endsWith('.partial'))).toEqual([]);
    const there = lab.tree(lab.outside('other'));
    for (const [name, content] of Object.entries(here)) expect(there[name], name).toBe(content);
  });

  it('compare: size,modtime,checksum is passed to rclone and finds a same-size, same-time change', async () => {
    const lab = bisyncLab('    compare: size,modtime,checksum\n');
    const resync = await lab.cli(['sync', '--resync', '--json']);
    expect(resync.exitCode, resync.stdout + resync.stderr).toBe(0);
    sameSizeSameTime(lab.outside('other/d'), 'D');
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc & { pairs: { commands: string[] }[] }>(r).pairs[0]?.commands.join('\n')).toContain('--compare size,modtime,checksum');
    expect(readFileSync(lab.path('notes/d'), 'utf8')).toBe('D');
  });

  it('still never adds --resync itself, and still refuses a bisync from an emptied folder', async () => {
    const lab = bisyncLab('    conflict: newer\n');
    const first = await lab.cli(['sync', '--json']);
    expect(first.exitCode).toBe(3);
    expect(json<Doc>(first).pairs[0]).toMatchObject({ status: 'refused', hint: expect.stringContaining('labsync sync shared --resync') });
    await succeeds(lab, ['sync', '--resync']);
    for (const f of ['a', 'b', 'c', 'd', 'e']) unlinkSync(lab.path('notes', f));
    const r = await lab.cli(['sync']);
    expect(r.exitCode).toBe(3);
    expect(Object.keys(lab.tree(lab.outside('other'))).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe(`rclone ${rclone.version} bisync: labsync's own guards`, () => {
  const ten = (extra = ''): Lab => bisyncLab(extra, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);

  it('max_delete as a percentage counts both sides\' deletions against what both held after the last sync (rclone judges each side alone: 3 of 10 here, 6 of 10 in all)', async () => {
    const lab = ten('    max_delete: 50%\n');
    await succeeds(lab, ['sync', '--resync']);
    for (const f of ['a', 'b', 'c']) unlinkSync(lab.path('notes', f));
    for (const f of ['f', 'g', 'h']) unlinkSync(lab.outside('other', f));
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode, r.stdout).toBe(3);
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/would delete 6 files on the two sides, of the 10 they held after the last sync \(60%\), over max_delete 50%/);
    expect(Object.keys(lab.tree(lab.path('notes'))).sort()).toEqual(['d', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(Object.keys(lab.tree(lab.outside('other'))).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'i', 'j']);
    // Under the limit it goes: one deletion from each side.
    lab.write(lab.path('notes/a'), 'a').write(lab.path('notes/b'), 'b').write(lab.path('notes/c'), 'c');
    await succeeds(lab, ['sync', '--resync']);
    unlinkSync(lab.path('notes/a'));
    unlinkSync(lab.outside('other/j'));
    await succeeds(lab, ['sync']);
    expect(lab.tree(lab.path('notes'))).toEqual(lab.tree(lab.outside('other')));
    expect(Object.keys(lab.tree(lab.path('notes')))).not.toContain('j');
  });

  it('rclone --resync of more than one bisync pair needs their names (exit 2, nothing run); one pair alone needs none', async () => {
    const lab = bisyncLab();
    lab.manifest(`${readFileSync(lab.path('labsync.yaml'), 'utf8')}  - name: second\n    tool: rclone\n    local: notes2\n    remote: file://${lab.outside('other2')}\n    mode: bisync\n`);
    lab.write(lab.path('notes2/x'), 'x');
    const r = await lab.cli(['sync', '--resync']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/name the pairs to resync \(shared, second\)/);
    expect(existsSync(lab.path('.labsync/bisync'))).toBe(false);
    await succeeds(lab, ['sync', 'shared', '--resync']);
  });

  it('its listings lost: sync and its dry run refuse with the resync hint; never a plan read from an earlier dry run\'s leftovers', async () => {
    const lab = bisyncLab();
    await succeeds(lab, ['sync', '--resync']);
    lab.write(lab.path('notes/new'), 'new');
    expect((await lab.cli(['sync', '--dry-run'])).exitCode).toBe(0);
    const work = lab.path('.labsync/bisync/shared');
    for (const name of readdirSync(work).filter((n) => /\.path[12]\.lst$/.test(n))) unlinkSync(`${work}/${name}`);
    expect(readdirSync(work).some((n) => n.includes('.lst-dry'))).toBe(true);
    for (const args of [['sync', '--dry-run', '--json'], ['sync', '--json']]) {
      const r = await lab.cli(args);
      expect(r.exitCode, args.join(' ')).toBe(3);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/no listing of a last sync/), hint: expect.stringContaining('labsync sync shared --resync') });
    }
    expect(existsSync(lab.outside('other/new'))).toBe(false);
  });
});

describe.skipIf(!rclone.modern)(`rclone ${rclone.version} bisync: backups and --resync (current rclone)`, () => {
  it('backup: true keeps each side\'s replaced and deleted files on that side', async () => {
    const lab = bisyncLab('    backup: true\n');
    await succeeds(lab, ['sync', '--resync']);
    lab.write(lab.outside('other/c'), 'remote edit');
    unlinkSync(lab.outside('other/d'));
    lab.write(lab.path('notes/e'), 'local edit');
    await succeeds(lab, ['sync']);
    expect(lab.tree(lab.path('notes'))).toMatchObject({ c: 'remote edit', e: 'local edit' });
    const kept = (root: string): Record<string, string> => {
      const dir = `${root}/.labsync-backup`;
      const [stamp] = readdirSync(dir);
      return lab.tree(`${dir}/${stamp as string}`);
    };
    expect(kept(lab.path('notes'))).toEqual({ c: 'c', d: 'd' });
    expect(kept(lab.outside('other'))).toEqual({ e: 'e' });
  });

  it('--resync keeps the newer copy of a file that differs (not always the local one), as its hint says', async () => {
    const lab = bisyncLab();
    lab.write(lab.path('notes/c'), 'old local');
    utimesSync(lab.path('notes/c'), new Date('2025-01-01'), new Date('2025-01-01'));
    lab.write(lab.outside('other/c'), 'NEW remote edit');
    utimesSync(lab.outside('other/c'), new Date('2026-06-01'), new Date('2026-06-01'));
    const r = await lab.cli(['sync', '--json']);
    expect(json<Doc>(r).pairs[0]?.hint).toMatch(/the newer copy wins/);
    await succeeds(lab, ['sync', '--resync']);
    expect(readFileSync(lab.path('notes/c'), 'utf8')).toBe('NEW remote edit');
    expect(readFileSync(lab.outside('other/c'), 'utf8')).toBe('NEW remote edit');
  });
});

describe.skipIf(rclone.modern)(`rclone ${rclone.version} bisync (before 1.66)`, () => {
  it('backup: true is refused (this bisync keeps no backups), and the resync hint says the local copy replaces the remote one', async () => {
    const lab = bisyncLab('    backup: true\n');
    const v = await lab.cli(['validate']);
    expect(v.exitCode).toBe(2);
    expect(v.stderr).toMatch(/backup: true on a bisync pair needs rclone 1\.66\.0 or newer/);
    const plain = bisyncLab();
    const r = await plain.cli(['sync', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]?.hint).toMatch(/the local copy of each file that differs replaces the remote's/);
  });

  it('refuses conflict: newer and compare at validate, plan and sync, naming the version needed; runs no bisync', async () => {
    const lab = bisyncLab('    conflict: newer\n    compare: size,modtime,checksum\n');
    for (const args of [['validate'], ['plan']]) {
      const r = await lab.cli(args);
      expect(r.exitCode, args[0]).toBe(2);
      expect(r.stderr, args[0]).toMatch(/labsync\.yaml:\d+:\d+ data\.shared: conflict: newer needs rclone 1\.66\.0 or newer \(found 1\.60[^)]*\).*compare: size,modtime,checksum needs rclone 1\.66\.0.*LABSYNC_RCLONE/s);
    }
    const r = await lab.cli(['sync', '--resync', '--json']);
    expect(r.exitCode).toBe(3);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/needs rclone 1\.66\.0/), hint: expect.stringMatching(/LABSYNC_RCLONE/) });
    expect(existsSync(lab.path('.labsync/bisync/shared'))).toBe(false);
  });

  it('a second conflict on one file is refused: 1.60 would rename both copies onto the names the first conflict kept', async () => {
    const lab = bisyncLab();
    await succeeds(lab, ['sync', '--resync']);
    lab.write(lab.path('notes/c'), 'local v1').write(lab.outside('other/c'), 'remote v1');
    await succeeds(lab, ['sync']);
    expect(lab.tree(lab.path('notes'))).toMatchObject({ 'c..path1': 'local v1', 'c..path2': 'remote v1' });
    lab.write(lab.path('notes/c'), 'local v2').write(lab.outside('other/c'), 'remote v2');
    const r = await lab.cli(['sync', '--json']);
    expect(r.exitCode, r.stdout).toBe(3);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/renamed onto c\.\.path1, c\.\.path2/) });
    for (const side of [lab.path('notes'), lab.outside('other')]) expect(lab.tree(side)).toMatchObject({ 'c..path1': 'local v1', 'c..path2': 'remote v1' });
  });

  it('keep-both is fine on 1.60', async () => {
    const lab = bisyncLab('    conflict: keep-both\n');
    expect((await lab.cli(['validate'])).exitCode).toBe(0);
    await succeeds(lab, ['sync', '--resync']);
  });
});

describe(`LABSYNC_RCLONE picks the rclone (now ${rclone.version})`, () => {
  it('doctor and the receipt show the version of the binary labsync drives; a wrong path fails naming it', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: file://${lab.outside('nas')}\n`);
    lab.write(lab.path('raw/a'), 'a');
    const doctor = await lab.cli(['doctor', '--json'], { env: { LABSYNC_RCLONE: rclone.binary } });
    const tool = (JSON.parse(doctor.stdout) as { tools: { program: string; version?: string; path?: string }[] }).tools.find((t) => t.program === 'rclone');
    expect(tool).toMatchObject({ version: rclone.version, path: expect.stringMatching(/rclone/) });
    const pushed = await lab.cli(['data', 'push'], { env: { LABSYNC_RCLONE: rclone.binary } });
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    const [receipt] = readdirSync(lab.path('.labsync/receipts'));
    expect(JSON.parse(readFileSync(lab.path('.labsync/receipts', receipt as string), 'utf8'))).toMatchObject({ toolVersions: { rclone: rclone.version } });

    const missing = lab.outside('no-such-rclone');
    const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_RCLONE: missing } });
    expect(r.exitCode).toBe(1);
    expect(json<Doc>(r).pairs[0]?.error).toContain(`rclone not found at ${missing} (LABSYNC_RCLONE)`);
    const badDoctor = await lab.cli(['doctor'], { env: { LABSYNC_RCLONE: missing } });
    expect(badDoctor.exitCode).toBe(1);
    expect(badDoctor.stdout).toContain(`not found at ${missing} (LABSYNC_RCLONE)`);
  });
});
