// bin/labsync.js checks a kept connection's socket folder itself before it starts a session that rides
// it (CommonJS, before the build loads: it cannot import this one): both must say the same of the same
// folders. Each case is a real folder; the engine's verdict is socketFolder's, bin's is socketSafe's on
// the ControlPath the engine would give ssh in it.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketFolder, socketPathMax } from './ssh-sockets.js';
import { ownPrivateGroup, trustedFolder } from './trusted-folder.js';

const { socketSafe, trustedFolder: binTrusted } = createRequire(import.meta.url)('../../bin/labsync.js') as { socketSafe: (args: readonly string[]) => boolean; trustedFolder: (dir: string) => boolean };

const base = mkdtempSync(join(tmpdir(), 'ls-pin-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const SOCKET = '0123456789abcdef0123';

// The engine's limit: the socket's path (<base>/<name>/labsync/ssh/<SOCKET>), ssh's 17-character temporary
// suffix and the NUL within sun_path. `room`: the longest cache folder <name> whose socket still fits (on
// Linux 56 bytes less base's). The cases that find a folder used need room for 'own-700': a base of at
// most 49 bytes, a TMPDIR of at most 35 (the run's own, test/harness/tmp-root.ts, is short for this).
const room = socketPathMax() - 17 - 1 - Buffer.byteLength(join(base, 'labsync', 'ssh', SOCKET)) - 1;
beforeAll(() => {
  if (room < 'own-700'.length) throw new Error(`${base} is too deep for these cases: a socket fits under it only in a folder named with at most ${room} bytes (they need 7); set a shorter TMPDIR`);
});

/** A cache folder whose labsync/ssh is made by `make` (given its path); `name` must be new for each case (the engine checks a folder once per process). */
function cache(name: string, make: (ssh: string) => void): string {
  const root = join(base, name);
  mkdirSync(join(root, 'labsync'), { recursive: true });
  make(join(root, 'labsync', 'ssh'));
  return root;
}

/** Both verdicts on one cache folder: the engine's (a folder to use, or not) and bin's. */
function verdicts(root: string): { engine: boolean; bin: boolean } {
  const got = socketFolder(SOCKET.length, { XDG_CACHE_HOME: root });
  const socket = join(root, 'labsync', 'ssh', SOCKET);
  return { engine: 'dir' in got, bin: socketSafe(['-o', 'BatchMode=yes', '-o', `ControlPath=${socket}`]) };
}

const folder = (mode: number) => (ssh: string): void => {
  mkdirSync(ssh);
  chmodSync(ssh, mode);
};

describe('the socket folder: bin/labsync.js and the engine agree', () => {
  it('a folder of this user\'s that nobody else may write in: used by both', () => {
    expect(verdicts(cache('own-700', folder(0o700)))).toEqual({ engine: true, bin: true });
    expect(verdicts(cache('own-755', folder(0o755)))).toEqual({ engine: true, bin: true });
  });

  it('writable by group or others, a symlink (even to a good folder), a file: used by neither', () => {
    expect(verdicts(cache('group-770', folder(0o770)))).toEqual({ engine: false, bin: false });
    expect(verdicts(cache('others-702', folder(0o702)))).toEqual({ engine: false, bin: false });
    const good = join(base, 'elsewhere');
    mkdirSync(good, { mode: 0o700 });
    expect(verdicts(cache('symlink', (ssh) => symlinkSync(good, ssh)))).toEqual({ engine: false, bin: false });
    expect(verdicts(cache('file', (ssh) => writeFileSync(ssh, '')))).toEqual({ engine: false, bin: false });
  });

  // Only root can give a folder to another user; elsewhere the engine's own test covers the verdict (ssh-sockets.test.ts).
  it.skipIf(process.getuid?.() !== 0)('another user\'s folder: used by neither', () => {
    expect(verdicts(cache('theirs', (ssh) => {
      folder(0o700)(ssh);
      chownSync(ssh, 65534, 65534);
    }))).toEqual({ engine: false, bin: false });
  });

  // A folder above owned by another user (its owner could rename ours away and put theirs there): only root can make one.
  it.skipIf(process.getuid?.() !== 0)('a cache folder under another user\'s folder: used by neither', () => {
    const root = cache('under-theirs', folder(0o700));
    chownSync(join(root, 'labsync'), 65534, 65534);
    expect(verdicts(root)).toEqual({ engine: false, bin: false });
  });

  it('a path holding % or ${ (ssh expands both in a ControlPath), or too long for a unix socket: used by neither', () => {
    expect(verdicts(cache('pct%h', folder(0o700)))).toEqual({ engine: false, bin: false });
    expect(verdicts(cache('var${HOME}', folder(0o700)))).toEqual({ engine: false, bin: false });
    // One byte over the limit, and exactly at it (`room`, above).
    expect(verdicts(cache('d'.repeat(room + 1), folder(0o700)))).toEqual({ engine: false, bin: false });
    expect(verdicts(cache('f'.repeat(room), folder(0o700)))).toEqual({ engine: true, bin: true });
  });

  it('no folder at all: bin starts nothing there (the engine would make one, 0700, for its own run)', () => {
    expect(socketSafe(['-o', `ControlPath=${join(base, 'none', 'labsync', 'ssh', '0123456789abcdef0123')}`])).toBe(false);
    // A session that rides no kept connection is not bin's to judge.
    expect(socketSafe(['-o', 'BatchMode=yes'])).toBe(true);
  });
});

describe('a cache folder trusted to hold what labsync runs (V8 cache, hints, manifest cache): bin/labsync.js and the engine agree', () => {
  const made = (path: string, mode: number): string => {
    mkdirSync(path, { recursive: true });
    chmodSync(path, mode);
    return path;
  };
  const both = (dir: string): { engine: boolean; bin: boolean } => ({ engine: trustedFolder(dir), bin: binTrusted(dir) });

  it('this user\'s, under folders nobody else may write in (or a root-owned sticky one, as /tmp): trusted by both', () => {
    expect(both(made(join(base, 't-own', 'labsync'), 0o700))).toEqual({ engine: true, bin: true });
    made(join(base, 't-sticky'), 0o1777);
    expect(both(made(join(base, 't-sticky', 'labsync'), 0o700))).toEqual({ engine: true, bin: true });
  });

  it('a folder above writable by group or others (not sticky), the folder a symlink, or missing: trusted by neither', () => {
    // Writable by a group others are in (only root can give a folder to another group).
    if (process.getuid?.() === 0) {
      chownSync(made(join(base, 't-group'), 0o775), 0, 65534);
      expect(both(made(join(base, 't-group', 'labsync'), 0o700))).toEqual({ engine: false, bin: false });
    }
    made(join(base, 't-open'), 0o777);
    expect(both(made(join(base, 't-open', 'labsync'), 0o700))).toEqual({ engine: false, bin: false });
    const good = made(join(base, 't-good'), 0o700);
    symlinkSync(good, join(base, 't-link'));
    expect(both(join(base, 't-link'))).toEqual({ engine: false, bin: false });
    expect(both(join(base, 't-none'))).toEqual({ engine: false, bin: false });
  });

  // Debian, Ubuntu, RHEL and Fedora give each user a group of their own and umask 002: ~/.cache is then 0775.
  it.skipIf(ownPrivateGroup() === undefined)('a folder above writable by this user\'s own private group (no one else in it): trusted by both', () => {
    const home = made(join(base, 't-private'), 0o775);
    chownSync(home, process.getuid?.() ?? 0, ownPrivateGroup() as number);
    expect(both(made(join(home, 'labsync'), 0o700))).toEqual({ engine: true, bin: true });
  });

  it('a symlinked folder above, to a folder others may write in: its real path is judged too', () => {
    made(join(base, 't-real'), 0o777);
    made(join(base, 't-real', 'labsync'), 0o700);
    symlinkSync(join(base, 't-real'), join(base, 't-alias'));
    expect(both(join(base, 't-alias', 'labsync'))).toEqual({ engine: false, bin: false });
  });

  it.skipIf(process.getuid?.() !== 0)('under another user\'s folder: trusted by neither', () => {
    const theirs = made(join(base, 't-theirs'), 0o755);
    const mine = made(join(theirs, 'labsync'), 0o700);
    chownSync(theirs, 65534, 65534);
    expect(both(mine)).toEqual({ engine: false, bin: false });
  });
});
