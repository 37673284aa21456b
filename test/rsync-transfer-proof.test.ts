// A push leans on rsync's own check of every file it writes (each is compared with the sender's
// whole-file checksum) instead of reading the copies back on the host; these cases count bytes read
// on each side and show the guarantee holds: a file changed around the transfer is never taken on trust.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { coldLab, json, Lab } from './harness/lab.js';
import { pastRacyWindow, until } from './harness/wait.js';
import { startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

const ssh = inject('sshHost');

type Verify = { status: string; changed: string[]; extra?: string[]; bytesHashed?: { local: number; remote: number }; proof?: string; provenByTransfer?: number; readWhileSending?: number };
type Doc = { pairs: { status: string; files: number; warnings: string[]; verify: Verify | null }[] };

const pairOf = (r: { stdout: string }) => json<Doc>(r as never).pairs[0];

const settle = pastRacyWindow;

const manifest = (host: SshHost, lab: Lab): string => sshPairManifest(host, lab);

/**
 * A PATH whose `rsync` runs the real rsync, then (once, after the first transfer) runs
 * `after`: another process writing a file just after rsync wrote and checked it.
 */
function rsyncThen(after: string): Record<string, string> {
  const dir = tempDir('labsync-rsync-then-');
  const real = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
  const script = join(dir, 'rsync');
  writeFileSync(script, `#!/bin/sh
"${real}" "$@"
rc=$?
case " $* " in *" --info=progress2 "*) if [ ! -e "${dir}/done" ]; then : > "${dir}/done"; ${after}; fi ;; esac
exit $rc
`);
  chmodSync(script, 0o755);
  return { PATH: `${dir}:${process.env.PATH ?? ''}` };
}

describe.skipIf(!ssh)('push over ssh: verify leans on rsync\'s transfer checksum', () => {
  const host = ssh as SshHost;

  it('a first push reads nothing back on the host, says so in the result and the receipt; check --full still reads every byte', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/sub/b'), 'b'.repeat(20)).write(lab.path('raw/c'), 'c'.repeat(30));
    await settle();
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    // The source is read once, while rsync sends it (early-hash.ts), and not again after the transfer.
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 3, verify: { status: 'in_sync', proof: 'rsync-transfer-checksum', provenByTransfer: 3, bytesHashed: { local: 60, remote: 0 }, readWhileSending: 60 } });
    const receipts = lab.path('.labsync', 'receipts');
    const receipt = JSON.parse(readFileSync(join(receipts, readdirSync(receipts)[0] as string), 'utf8')) as { proof: string; bytesHashed: unknown };
    expect(receipt).toMatchObject({ proof: 'rsync-transfer-checksum', bytesHashed: { local: 60, remote: 0 } });
    expect((await lab.cli(['data', 'push', '-v'])).stdout).not.toContain('transfer checksum');

    const full = await lab.cli(['check', '--full', '--json']);
    expect(pairOf(full)?.verify).toMatchObject({ status: 'in_sync', proof: 'full', bytesHashed: { local: 60, remote: 60 } });
  });

  it('one changed file: only it is sent, hashed here only, and proved there by the transfer', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/b'), 'b'.repeat(20));
    await settle();
    await lab.cli(['data', 'push']);
    await settle();
    await lab.cli(['check']); // remembers the copies written within the racy window
    lab.write(lab.path('raw/b'), 'B'.repeat(25));
    await settle();
    const push = await lab.cli(['data', 'push', '-v', '--json']);
    // A small change after a proof is planned and verified from the changed records (incremental.ts): the
    // one file is read here after the transfer, not while it is sent.
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync', provenByTransfer: 1, bytesHashed: { local: 25, remote: 0 } } });
    // A destination that holds files gets exactly the planned list.
    expect((json<{ pairs: { commands: string[] }[] }>(push as never).pairs[0]?.commands ?? []).filter((c) => c.includes('--files-from=-'))).toHaveLength(1);
  });

  it('a first push of more files than one batch reads each source byte once, on the workers while rsync sends, and nothing on the host', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    let total = 0;
    for (let i = 0; i < 700; i++) {
      const body = String(i).repeat(1 + (i % 7));
      lab.write(lab.path(`raw/d${i % 3}/f${i}`), body);
      total += body.length;
    }
    await settle();
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 700, verify: { status: 'in_sync', checked: 700, provenByTransfer: 700, bytesHashed: { local: total, remote: 0 }, readWhileSending: total } });
    // Every file new at an empty destination: one rsync walks the tree, no list of 700 paths on its stdin.
    const sent = (json<{ pairs: { commands: string[] }[] }>(push as never).pairs[0]?.commands ?? []).filter((c) => c.includes('--info=progress2'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('--no-links --no-devices --no-specials');
    expect(sent[0]).not.toContain('--files-from');
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual(lab.tree(lab.path('raw')));
    // Remembered as read: the next run reads nothing here.
    await settle();
    const again = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(again)?.verify?.bytesHashed?.local).toBe(0);
  });

  it('with LABSYNC_EARLY_HASH=0 the source is read after the transfer instead: the same bytes, none while sending', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/sub/b'), 'b'.repeat(20));
    await settle();
    const push = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_EARLY_HASH: '0' } });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    const verify = pairOf(push)?.verify;
    expect(verify).toMatchObject({ status: 'in_sync', provenByTransfer: 2, bytesHashed: { local: 30, remote: 0 } });
    expect(verify?.readWhileSending).toBeUndefined();
  });

  it('files written just before the push (too fresh to remember) are still read once, while sending, and the copies proved by the transfer', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/b'), 'b'.repeat(20));
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    // Hashed while sending, trusted for this run under the key they still have after it, not remembered.
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync', provenByTransfer: 2, bytesHashed: { local: 30, remote: 0 }, readWhileSending: 30 } });
    await settle();
    // (Whether they were remembered depends on how soon the read came: the next run finds the pair equal either way.)
    const again = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(again)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync' } });
    // Read again on each side where they were too fresh to remember when last read: the host's copies
    // were just written; the sources were read while rsync sent them, which may or may not be past the
    // window by then (how long the transfer took), so here or on both sides.
    const read = pairOf(again)?.verify?.bytesHashed;
    expect(read?.remote).toBe(30);
    expect([0, 30]).toContain(read?.local);
  });

  it('a transfer that fails while the source is being read ends the run with its error; nothing is verified', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    for (let i = 0; i < 600; i++) lab.write(lab.path(`raw/f${i}`), 'x'.repeat(100));
    await settle();
    const dir = tempDir('labsync-rsync-fails-');
    writeFileSync(join(dir, 'rsync'), `#!/bin/sh
case " $* " in *" --info=progress2 "*) echo 'rsync: connection unexpectedly closed' >&2; exit 12 ;; esac
exec "${execFileSync('sh', ['-c', 'command -v rsync']).toString().trim()}" "$@"
`);
    chmodSync(join(dir, 'rsync'), 0o755);
    const push = await lab.cli(['data', 'push', '--json'], { env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
    expect(push.exitCode).not.toBe(0);
    expect(pairOf(push)).toMatchObject({ status: 'failed', verify: null });
  });

  it('a source file rewritten just after rsync sent it is not taken on trust: the copy is read, found different, and sent again', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'first').write(lab.path('raw/b'), 'other');
    await settle();
    const env = rsyncThen(`printf FIRST > '${lab.path('raw/a')}'`); // same size: only its stat key tells
    const push = await lab.cli(['data', 'push', '--json'], { env });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    const pair = pairOf(push);
    expect(pair?.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: a');
    // Both were read while rsync sent them; a's hash is of the bytes sent, under a key it no longer has.
    expect(pair?.verify).toMatchObject({ status: 'in_sync', readWhileSending: 10 });
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'FIRST', b: 'other' });
  });

  it('a source file gone between the listing after the transfer and its read is not proved by its copy\'s hash: it is there only', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'alpha').write(lab.path('raw/b'), 'beta');
    await settle();
    // The source is read after the transfer (LABSYNC_EARLY_HASH=0). Its second find (the listing after the
    // transfer) still lists b, then b goes before it is read: b's copy is read on the host, and that hash
    // must not stand for the source's too (it did: b was judged equal, proved by the transfer).
    const dir = tempDir('labsync-find-then-');
    const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
    writeFileSync(join(dir, 'find'), `#!/bin/sh\n"${real}" "$@"\nrc=$?\necho >> '${dir}/calls'\n[ "$(wc -l < '${dir}/calls')" -eq 2 ] && rm -f '${lab.path('raw/b')}'\nexit $rc\n`);
    chmodSync(join(dir, 'find'), 0o755);
    const push = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_EARLY_HASH: '0', PATH: `${dir}:${process.env.PATH ?? ''}` } });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(existsSync(lab.path('raw/b'))).toBe(false);
    // A push that does not mirror keeps a copy the source no longer has: there only, not drift.
    expect(pairOf(push)?.verify).toMatchObject({ status: 'in_sync', extra: ['b'], changed: [], provenByTransfer: 1, bytesHashed: { local: 5, remote: 4 } });
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha', b: 'beta' });
  });

  it('a copy rewritten on the host just after rsync wrote it (same size, new mtime) is read there and repaired', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'good').write(lab.path('raw/b'), 'fine');
    await settle();
    // The rewrite comes after the local rsync exits: on the held session the host has listed by then
    // (that case is in 'one ssh session per push' below); here the listing after it is a login of its own.
    const env = { ...rsyncThen(`printf evil > '${lab.outside('gpu/raw/a')}'`), LABSYNC_SSH_HOLD: '0' };
    const push = await lab.cli(['data', 'push', '--json'], { env });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    const pair = pairOf(push);
    expect(pair?.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: a');
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'good', b: 'fine' });
  });
});

describe.skipIf(!ssh)('an unchanged ssh pair is answered from each side\'s tree summary', () => {
  const host = ssh as SshHost;

  it('needs neither hash cache (damaged ones cost nothing), keeps the receipt\'s sums, and a changed key on the host still counts', async () => {
    const lab = new Lab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/sub/b'), 'b'.repeat(20));
    await settle();
    await lab.cli(['data', 'push']);
    await settle();
    await lab.cli(['check']); // every file now remembered on both sides: the summaries are written
    const cache = lab.path('.labsync', 'cache');
    const rows = readdirSync(cache).filter((f) => /^[0-9a-f]{16}\.hashes$/.test(f));
    expect(rows).toHaveLength(2);
    // A per-file cache that were read would now cost a re-hash of every file (bytesHashed > 0).
    for (const f of rows) writeFileSync(join(cache, f), '{damaged');
    const check = await lab.cli(['check', '--json']);
    expect(pairOf(check)?.verify).toMatchObject({ status: 'in_sync', checked: 2, bytesHashed: { local: 0, remote: 0 }, proof: 'cached' });
    const push = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', bytesHashed: { local: 0, remote: 0 } } });
    const receipts = lab.path('.labsync', 'receipts');
    const sums = readdirSync(receipts).sort().map((f) => (JSON.parse(readFileSync(join(receipts, f), 'utf8')) as { sumsDigest: string }).sumsDigest);
    expect(new Set(sums).size).toBe(1);

    // Same size, mtime put back: only the host's ctime tells, and the listing is no longer the remembered one.
    const target = lab.outside('gpu/raw/a');
    const stamp = new Date(statSync(target).mtimeMs).toISOString();
    writeFileSync(target, 'A'.repeat(10));
    execFileSync('touch', ['-d', stamp, target]);
    const drift = await lab.cli(['check', '--json']);
    expect(drift.exitCode).toBe(4);
    expect(pairOf(drift)?.verify).toMatchObject({ status: 'drift', changed: ['a'] });
  });
});

// Cold runs (coldLab: LABSYNC_SSH_PERSIST=0): these count each run's own logins, which a connection kept
// between runs would save (test/ssh-persist.test.ts).
describe.skipIf(!ssh)('a push logs in to the host once', () => {
  let host: SshHost;
  beforeAll(async () => {
    // A host of this file's own: the shared one's log counts other files' logins too.
    host = await startSshd(join(tempDir('labsync-mux-'), 'sshd'));
  });
  afterAll(() => stopSshd(host));
  const count = (what: RegExp): number => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(what) ?? []).length;
  const logins = (): number => count(/Accepted publickey/g);
  // A session per command sshd runs, over a login of its own or a shared one: what this host pays for.
  const sessions = (): number => count(/Starting session: command/g);

  it('with LABSYNC_SSH_SHARE=1 listing, rsync and the listing after it share one connection, closed at the end; with =0 each logs in', async () => {
    const lab = coldLab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'one');
    const before = logins();
    const beforeSessions = sessions();
    const push = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_SSH_SHARE: '1' } });
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect(logins() - before).toBe(1);
    expect(sessions() - beforeSessions).toBe(3);
    // The shared connection was told to exit when the pair ended: no master lingers on the host.
    await until('the shared connection to close', () => count(/Disconnected from user/g) === logins());

    lab.write(lab.path('raw/b'), 'two');
    const mid = logins();
    const midSessions = sessions();
    const apart = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_SSH_SHARE: '0' } });
    expect(pairOf(apart)).toMatchObject({ status: 'ok', files: 1 });
    // The listing (which also hashes the first push's copy, too fresh to remember then), rsync, the listing after it.
    expect(logins() - mid).toBe(3);
    expect(sessions() - midSessions).toBe(3);
  });

  it('by default a push that sends is one ssh session (listing, rsync through it, the listing after), and so are the runs after it', async () => {
    const lab = coldLab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'a'.repeat(10)).write(lab.path('raw/sub/b'), 'b'.repeat(20));
    await settle();
    const first = logins();
    const firstSessions = sessions();
    const push = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(push)).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync', bytesHashed: { remote: 0 } } });
    expect(logins() - first).toBe(1);
    expect(sessions() - firstSessions).toBe(1);
    await until('the shared connection to close', () => count(/Disconnected from user/g) === logins());

    // The copies were written within the racy window of the listing after the transfer: not remembered
    // then, so the next listing hashes them on the host in its own call, not in a second login.
    await settle();
    const next = logins();
    const nextSessions = sessions();
    const again = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(again)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', bytesHashed: { local: 0, remote: 30 } } });
    expect(logins() - next).toBe(1);
    expect(sessions() - nextSessions).toBe(1);

    // Now every file is remembered on both sides: one login, nothing read anywhere.
    const last = logins();
    const lastSessions = sessions();
    const quiet = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(quiet)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', bytesHashed: { local: 0, remote: 0 } } });
    expect(logins() - last).toBe(1);
    expect(sessions() - lastSessions).toBe(1);
    expect(readdirSync(lab.path('.labsync', 'cache')).filter((f) => f.endsWith('.racy'))).toEqual([]);
  });

  it('a racy copy changed on the host before the next run (same size and mtime) is found, not taken from the carried hash', async () => {
    const lab = coldLab();
    lab.manifest(manifest(host, lab));
    lab.write(lab.path('raw/a'), 'good');
    await settle();
    expect(pairOf(await lab.cli(['data', 'push', '--json']))).toMatchObject({ status: 'ok', files: 1 });
    expect(readdirSync(lab.path('.labsync', 'cache')).filter((f) => f.endsWith('.racy'))).toHaveLength(1);
    const target = lab.outside('gpu/raw/a');
    const stamp = new Date(statSync(target).mtimeMs).toISOString();
    writeFileSync(target, 'evil');
    execFileSync('touch', ['-d', stamp, target]);
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(pairOf(check)?.verify).toMatchObject({ status: 'drift', changed: ['a'] });
  });
});
