// One ssh session per push (engine/ssh-held.ts): the listing's session is kept, a small transfer's
// rsync talks through it, and the host lists again in it. These cases break it where it can break —
// the session dying while it lists or while rsync runs, rsync --server failing, a line the host does
// not take, a dead host — and count sshd's sessions and logins from its log.
// Every lab here runs cold (coldLab: LABSYNC_SSH_PERSIST=0): the held session is what saves logins when no
// connection is kept between runs, and these cases count each run's logins (test/ssh-persist.test.ts has the kept one).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goLine, heldScript, relayRsh, touchMark } from '../src/adapters/rsync/held.js';
import { coldLab, json, Lab } from './harness/lab.js';
import { freePort, sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow, until } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

type Doc = { pairs: { status: string; files: number; attempts?: number; error?: string; warnings: string[]; verify: { status: string; bytesHashed?: { local: number; remote: number } } | null }[] };
const pairOf = (r: { stdout: string }) => json<Doc>(r as never).pairs[0];

const manifest = (host: SshHost, lab: Lab, extra = '', retries = 0): string => sshPairManifest(host, lab, { pair: extra, retries, retryDelay: '100ms' });

/**
 * A host whose `find` and `rsync` are wrappers that misbehave once when a switch file is there:
 * `find-kill` kills the session's processes mid-listing, `server-kill` kills them as rsync --server
 * starts, `server-fail` makes rsync --server exit 23 before it speaks, `before-server` and `after-server`
 * are scripts run on the host just before rsync --server starts and just after it exits (before the
 * listing after it).
 */
function wrappedHost(): { dir: string; bin: string; switches: string } {
  const dir = tempDir('labsync-held-host-');
  const bin = join(dir, 'bin');
  const switches = join(dir, 'switches');
  mkdirSync(bin);
  mkdirSync(switches);
  const real = (tool: string): string => execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
  // The session's own sshd process (the nearest ancestor named sshd) killed: the connection drops.
  const killSession = `p=$$; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) echo killed >> ${switches}/kills; kill -9 "$p"; exit 1 ;; esac; p=$(cut -d' ' -f4 /proc/$p/stat); done`;
  writeFileSync(join(bin, 'find'), `#!/bin/sh
if [ -e ${switches}/find-kill ] && [ "$1" = . ]; then rm -f ${switches}/find-kill; printf '12 1.0 1.0 1 partial'; ${killSession}; fi
exec ${real('find')} "$@"
`);
  writeFileSync(join(bin, 'rsync'), `#!/bin/sh
case " $* " in *" --server "*)
  if [ -e ${switches}/server-kill ]; then rm -f ${switches}/server-kill; ${killSession}; fi
  if [ -e ${switches}/server-fail ]; then rm -f ${switches}/server-fail; echo 'rsync: cannot start here' >&2; exit 23; fi
  if [ -e ${switches}/server-fail-always ]; then echo 'rsync: cannot start here' >&2; exit 23; fi
  if [ -e ${switches}/before-server ]; then sh ${switches}/before-server; rm -f ${switches}/before-server; fi
  ${real('rsync')} "$@"; rc=$?
  if [ -e ${switches}/after-server ]; then sh ${switches}/after-server; rm -f ${switches}/after-server; fi
  exit $rc ;;
esac
exec ${real('rsync')} "$@"
`);
  chmodSync(join(bin, 'find'), 0o755);
  chmodSync(join(bin, 'rsync'), 0o755);
  return { dir, bin, switches };
}

describe.skipIf(!sshdAvailable())('one ssh session per push, and its failure paths', () => {
  let host: SshHost;
  let switches: string;
  beforeAll(async () => {
    const w = wrappedHost();
    switches = w.switches;
    host = await startSshd(join(w.dir, 'sshd'), [`SetEnv PATH=${w.bin}:/usr/local/bin:/usr/bin:/bin`]);
  });
  afterAll(() => stopSshd(host));
  const count = (what: RegExp): number => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(what) ?? []).length;
  const sessions = (): number => count(/Starting session: command/g);
  const logins = (): number => count(/Accepted publickey/g);
  // A killed session's sshd logs no disconnect: the wrapper counts those it killed.
  const killed = (): number => (existsSync(join(switches, 'kills')) ? readFileSync(join(switches, 'kills'), 'utf8').split('\n').length - 1 : 0);
  const ports = (what: RegExp): Set<string> => new Set([...readFileSync(join(host.dir, 'sshd.log'), 'utf8').matchAll(what)].map((m) => m[1] as string));
  // How sshd (9.x, LogLevel VERBOSE) ends a logged-in connection: a goodbye ("Disconnected from user"); a
  // client gone without one (rsync stops its ssh on an error) as "Connection closed by" and "Closing
  // connection to"; or, when the client's socket still held bytes the host sent (rsync --server's error and
  // exit status), a reset: "Read error from remote host … Connection reset by peer" alone, or, met while
  // writing, "Connection reset by user …" / "Connection from user …: Broken pipe" alone. Counted by port,
  // so a connection that logs two of these counts once.
  const ended = (): Set<string> => ports(/(?:Disconnected from user \S+|Closing connection to|Read error from remote host|Connection (?:closed|reset) by(?: user \S+)?|Connection from user \S+) \S+ port (\d+)/g);
  const quiet = (): Promise<void> => until('every session to end', () => {
    const gone = ended();
    return [...ports(/Accepted publickey for \S+ from \S+ port (\d+)/g)].filter((p) => !gone.has(p)).length === killed();
  });
  const flip = (name: string, body = ''): void => writeFileSync(join(switches, name), body);

  async function pushed(lab: Lab, env: Record<string, string> = {}): Promise<{ pair: ReturnType<typeof pairOf>; sessions: number; logins: number }> {
    await quiet();
    const [s, l] = [sessions(), logins()];
    const r = await lab.cli(['data', 'push', '--json'], { env });
    await quiet();
    return { pair: pairOf(r), sessions: sessions() - s, logins: logins() - l };
  }

  function newLab(extra = '', retries = 0): Lab {
    const lab = coldLab();
    lab.manifest(manifest(host, lab, extra, retries));
    return lab;
  }

  it('pulls of a few MB with retries: 0 succeed every time (a pull does not ride the relay, which broke off mid-transfer on most runs)', async () => {
    const lab = newLab();
    const { randomBytes } = await import('node:crypto');
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) lab.write(lab.outside(`gpu/raw/sub/f${i}.bin`), randomBytes(1024 * 1024 + round));
      await quiet();
      const r = await lab.cli(['data', 'pull', '--json']);
      expect(r.exitCode, `round ${round}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(pairOf(r)).toMatchObject({ status: 'ok', files: 3, verify: { status: 'in_sync' } });
    }
  });

  it('a push that sends a few files: one session, one login; the next run one session too', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'one').write(lab.path('raw/sub/b'), 'two');
    await pastRacyWindow();
    const first = await pushed(lab);
    expect(first.pair).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync', bytesHashed: { remote: 0 } } });
    expect([first.sessions, first.logins]).toEqual([1, 1]);
    lab.write(lab.path('raw/a'), 'ONE!');
    await pastRacyWindow();
    const one = await pushed(lab);
    expect(one.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect([one.sessions, one.logins]).toEqual([1, 1]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'ONE!', 'sub/b': 'two' });
  });

  it('the session dies while the host lists: the usual listing and transfer take over, and the copy is proved', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha');
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 1 });
    lab.write(lab.path('raw/b'), 'beta');
    flip('find-kill');
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect(existsSync(join(switches, 'find-kill'))).toBe(false);
    // The dead session, the listing again, rsync (the master) and the listing after it over the master.
    expect([r.sessions, r.logins]).toEqual([4, 3]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha', b: 'beta' });
  });

  it('the session dies in the listing after the relayed transfer: the files are there, a listing of its own proves them', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha');
    // The folder is not on the host yet: the first listing never runs find there, the one after does.
    flip('find-kill');
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect(existsSync(join(switches, 'find-kill'))).toBe(false);
    expect([r.sessions, r.logins]).toEqual([2, 2]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha' });
  });

  it('the session dies as rsync --server starts: that was the first attempt; the retry goes over a login of its own, then is listed and proved', async () => {
    const lab = newLab('', 1);
    lab.write(lab.path('raw/a'), 'alpha');
    flip('server-kill');
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, attempts: 2, verify: { status: 'in_sync' } });
    expect(existsSync(join(switches, 'server-kill'))).toBe(false);
    expect([r.sessions, r.logins]).toEqual([3, 3]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha' });
  });

  it('with retries: 0 the session dying mid-transfer fails the pair, as a connection lost mid-rsync does', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha');
    flip('server-kill');
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.pair?.error).toMatch(/rsync/);
    expect(r.pair?.verify ?? null).toBeNull();
    expect(existsSync(lab.outside('gpu/raw/a'))).toBe(false);
    // The next run sends it (one session again).
    const again = await pushed(lab);
    expect(again.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect([again.sessions, again.logins]).toEqual([1, 1]);
  });

  it('rsync --server exits non-zero on the session: the retry sends the files their usual way, and they are proved', async () => {
    const lab = newLab('', 1);
    lab.write(lab.path('raw/a'), 'alpha');
    flip('server-fail');
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, attempts: 2, verify: { status: 'in_sync' } });
    expect([r.sessions, r.logins]).toEqual([3, 3]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha' });
  });

  it('rsync --server fails on the session and again on its own login: the pair fails as the usual path says, nothing is taken as sent', async () => {
    const lab = newLab('', 1);
    lab.write(lab.path('raw/a'), 'alpha');
    flip('server-fail-always');
    try {
      const r = await pushed(lab);
      expect(r.pair).toMatchObject({ status: 'failed', attempts: 2 });
      expect(r.pair?.error).toMatch(/rsync/);
      expect(r.pair?.verify ?? null).toBeNull();
      expect(existsSync(lab.outside('gpu/raw/a'))).toBe(false);
    } finally {
      rmSync(join(switches, 'server-fail-always'), { force: true });
    }
  });

  it('a copy rewritten on the host between rsync --server and the listing after it is read there and repaired', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'good').write(lab.path('raw/b'), 'fine');
    await pastRacyWindow();
    flip('after-server', `printf evil > '${lab.outside('gpu/raw/a')}'`);
    const r = await pushed(lab);
    expect(r.pair?.status).toBe('ok');
    expect(r.pair?.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: a');
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'good', b: 'fine' });
  });

  it('a source file changed while the relayed rsync runs is caught by the source\'s listing after the transfer and repaired', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'v1').write(lab.path('raw/c'), 'same');
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 2 });
    lab.write(lab.path('raw/a'), 'v2!');
    await pastRacyWindow();
    // Only a is planned; c changes at the source (this host is the same machine) as rsync --server starts.
    flip('before-server', `printf changed > '${lab.path('raw/c')}'`);
    const r = await pushed(lab);
    expect(existsSync(join(switches, 'before-server'))).toBe(false);
    expect(r.pair?.status).toBe('ok');
    expect(r.pair?.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: c');
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'v2!', c: 'changed' });
  });

  it('the local rsync ends at the protocol\'s goodbye, not when the host has ended rsync --server and listed: the relay\'s own process is not what it waits for', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha');
    await pastRacyWindow();
    // The local rsync notes its end; the host, after rsync --server and before its listing after it,
    // waits (at most 10 s) for that note. A relay that lived until the host's stdout ended would hold
    // rsync until then, so the host would see no note.
    const shim = tempDir('labsync-rsync-ended-');
    const real = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
    // Only the transfer's rsync (not the receipt's `rsync --version`).
    writeFileSync(join(shim, 'rsync'), `#!/bin/sh\n"${real}" "$@"\nrc=$?\ncase " $* " in *" --info=progress2 "*) : > ${switches}/client-ended ;; esac\nexit $rc\n`);
    chmodSync(join(shim, 'rsync'), 0o755);
    flip('after-server', `i=0; while [ ! -e ${switches}/client-ended ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; if [ -e ${switches}/client-ended ]; then echo ended; else echo waiting; fi > ${switches}/seen`);
    const r = await pushed(lab, { PATH: `${shim}:${process.env.PATH ?? ''}` });
    rmSync(join(switches, 'client-ended'), { force: true });
    expect(readFileSync(join(switches, 'seen'), 'utf8')).toBe('ended\n');
    rmSync(join(switches, 'seen'));
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect([r.sessions, r.logins]).toEqual([1, 1]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'alpha' });
  });

  it('a symlink made on the host between rsync --server and the listing after it: that listing marks it, and the pair is verified as a folder with links is', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha');
    await pastRacyWindow();
    flip('after-server', `ln -s a '${lab.outside('gpu/raw/link')}'`);
    const r = await pushed(lab);
    expect(existsSync(join(switches, 'after-server'))).toBe(false);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1 });
    expect(r.pair?.verify?.status).toBe('in_sync');
    // Not the listings' proof: the listing after said "symlinks", so rsync's own comparison answered.
    expect((r.pair?.verify as { proof?: string } | null)?.proof).toBe('tool');
    rmSync(lab.outside('gpu/raw/link'));
  });

  it('a mirror that deletes, and backups: rsync goes its own way, the held session lists after', async () => {
    const lab = newLab('    delete: true\n    backup: true\n');
    lab.write(lab.path('raw/a'), 'v1').write(lab.path('raw/old'), 'x');
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 2 });
    rmSync(lab.path('raw/old'));
    lab.write(lab.path('raw/a'), 'v2!');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    // The mirror's lock at the remote (taken and let go: 2), the held listing, rsync for the file,
    // rsync for the deletion; the listing after is the held session's.
    expect([r.sessions, r.logins]).toEqual([5, 5]);
    const tree = lab.tree(lab.outside('gpu/raw'));
    expect(tree.a).toBe('v2!');
    expect(Object.keys(tree).filter((k) => k.startsWith('.labsync-backup/')).map((k) => tree[k]).sort()).toEqual(['v1', 'x']);
  });

  it('a backup pair whose replacement rides the session keeps the old copy', async () => {
    const lab = newLab('    backup: true\n');
    lab.write(lab.path('raw/a'), 'v1');
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 1 });
    lab.write(lab.path('raw/a'), 'v2!');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect([r.sessions, r.logins]).toEqual([1, 1]);
    const tree = lab.tree(lab.outside('gpu/raw'));
    expect(Object.entries(tree).filter(([k]) => k.startsWith('.labsync-backup/')).map(([, v]) => v)).toEqual(['v1']);
  });

  it('a transfer past the relay\'s cut-over goes over its own login; the held session waits and lists after it (two sessions)', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha').write(lab.path('raw/b'), 'beta');
    await pastRacyWindow();
    const r = await pushed(lab, { LABSYNC_SSH_RELAY_MAX: '0' });
    expect(r.pair).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync', bytesHashed: { remote: 0 } } });
    expect([r.sessions, r.logins]).toEqual([2, 2]);
  });

  it('the last run\'s racy copy, hashed in the listing\'s call, is not hashed again after another file is sent: still one session', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'alpha').write(lab.path('raw/b'), 'beta');
    await pastRacyWindow();
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 2 });
    await pastRacyWindow();
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync' } });
    // a's copy is written within the racy second: the next run hashes it on the host, in its listing's call.
    lab.write(lab.path('raw/a'), 'ALPHA!');
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    lab.write(lab.path('raw/b'), 'BETA!!!');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync', bytesHashed: { remote: 'ALPHA!'.length } } });
    expect([r.sessions, r.logins]).toEqual([1, 1]);
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual({ a: 'ALPHA!', b: 'BETA!!!' });
  });

  it('a dead host: the pair fails (no hang), naming the connection', async () => {
    const lab = coldLab();
    const dead = { ...host, port: await freePort() };
    lab.manifest(manifest(dead, lab));
    lab.write(lab.path('raw/a'), 'alpha');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode).not.toBe(0);
    expect(pairOf(r)?.status).toBe('failed');
    expect(pairOf(r)?.error).toMatch(/connect|Connection refused|ssh/i);
  });
});

describe('the held session\'s host script and relay, run by a local sh', () => {
  it('the host takes only the relay\'s line: anything else ends the session without running it', () => {
    const dir = tempDir('labsync-held-script-');
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'f'), 'x');
    const script = heldScript(join(dir, 'tree'), []);
    const go = goLine('ab12', 0);
    const r = spawnSync('sh', ['-c', script], { input: `${go}touch ${join(dir, 'ran')}\n` });
    expect(r.status).toBe(0);
    expect(r.stdout.includes(touchMark('ab12'))).toBe(true);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(r.stderr.toString()).not.toContain('labsync-after');
    // The line it takes: the command runs, then the listing after it comes on stderr.
    const ok = spawnSync('sh', ['-c', script], { input: `${go}labsync-run touch ${join(dir, 'ran')}\n` });
    expect(existsSync(join(dir, 'ran'))).toBe(true);
    expect(ok.stderr.toString()).toMatch(/labsync-after ab12 0\nlabsync list /);
  });

  it('the host lists nothing until its go line, and nothing at all for a line that is not one', () => {
    const dir = tempDir('labsync-held-go-');
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'f'), 'x');
    const script = heldScript(join(dir, 'tree'), []);
    // End of file where the go line was awaited (labsync ended, or killed an unused early session).
    const none = spawnSync('sh', ['-c', script], { input: '' });
    expect(none.status).toBe(0);
    expect(none.stdout.length).toBe(0);
    for (const bad of ['labsync-run true\n', 'labsync-go x;y 0\n', 'labsync-go ab12 4x\n']) {
      const r = spawnSync('sh', ['-c', script], { input: bad });
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBe(0);
    }
    // Paths to hash after the go line, by length: the listing comes with their hashes.
    const asked = spawnSync('sh', ['-c', script], { input: `${goLine('ab12', 2)}f\0` });
    expect(asked.stdout.toString('latin1')).toMatch(/labsync-end\0labsync hash /);
    expect(asked.stdout.includes(touchMark('ab12'))).toBe(true);
  });

  it('the relay refuses a remote command holding a newline', () => {
    const rsh = relayRsh();
    // rsync would split -e itself; sh does the same with these quotes.
    const r = spawnSync('sh', ['-c', `${rsh} host rsync --server 'a\nb' 3>/dev/null 4>/dev/null`]);
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain('newline');
  });
});
