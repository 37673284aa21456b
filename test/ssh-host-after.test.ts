// The host's listing after a push over its held session, patched from its listing before
// (engine/host-after.ts) instead of listed whole: byte for byte what a whole find on the host prints,
// after real pushes through a real sshd, rsync and find. The host's find is a wrapper that counts the
// whole listings (`find .`), so a run's cost is counted, not timed.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findArgv } from '../src/verify/find-list.js';
import { json, Lab } from './harness/lab.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

type Pair = { status: string; files: number; error?: string; warnings: string[]; verify: { status: string; proof?: string } | null };
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/**
 * A host whose find logs each whole listing (`find .`), and each find over paths it is given: the probe,
 * a hash, an answer after a transfer. Switch files: `no-files0` makes find refuse -files0-from (findutils
 * 4.8); `not-gnu-head` makes head one that is not GNU's; `junk` makes the next answer of records print one not of their shape; `after-server` is a
 * script run just after rsync --server exits (before the listing after it).
 */
function countingHost(): { dir: string; bin: string; log: string; switches: string } {
  const dir = tempDir('labsync-host-after-');
  const bin = join(dir, 'bin');
  const log = join(dir, 'finds');
  const switches = join(dir, 'switches');
  mkdirSync(bin);
  mkdirSync(switches);
  const real = (tool: string): string => execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
  writeFileSync(join(bin, 'find'), `#!/bin/sh
case "$1 $2 $*" in '. '*) echo whole ;; '-files0-from /dev/null'*) echo probe ;; *' -exec '*) echo hash ;; -files0-from*) echo answer ;; esac >> '${log}'
if [ -e '${switches}/no-files0' ] && [ "$1" = -files0-from ]; then echo "find: unknown predicate -files0-from" >&2; exit 1; fi
case "$*" in "-files0-from - -maxdepth 0 ( -type f"*) if [ -e '${switches}/junk' ]; then rm -f '${switches}/junk'; printf 'junk\\0'; exit 0; fi ;; esac
exec ${real('find')} "$@"
`);
  writeFileSync(join(bin, 'rsync'), `#!/bin/sh
case " $* " in *" --server "*)
  ${real('rsync')} "$@"; rc=$?
  if [ -e '${switches}/after-server' ]; then sh '${switches}/after-server'; rm -f '${switches}/after-server'; fi
  exit $rc ;;
esac
exec ${real('rsync')} "$@"
`);
  // `not-gnu-head`: a head as BSD's: no --version, and -c reads ahead what the pipe holds (stdio).
  writeFileSync(join(bin, 'head'), `#!/bin/sh
if [ -e '${switches}/not-gnu-head' ]; then
  [ "$1" = --version ] && { echo "head: illegal option -- -" >&2; exit 1; }
  [ "$1" = -c ] && { dd bs=65536 count=1 2>/dev/null | ${real('head')} -c "$2"; exit; }
fi
exec ${real('head')} "$@"
`);
  chmodSync(join(bin, 'find'), 0o755);
  chmodSync(join(bin, 'rsync'), 0o755);
  chmodSync(join(bin, 'head'), 0o755);
  return { dir, bin, log, switches };
}

describe.skipIf(!sshdAvailable())('the host listed after a push: patched, as a whole find prints it', () => {
  let host: SshHost;
  let log: string;
  let switches: string;
  beforeAll(async () => {
    const h = countingHost();
    log = h.log;
    switches = h.switches;
    host = await startSshd(join(h.dir, 'sshd'), [`SetEnv PATH=${h.bin}:/usr/local/bin:/usr/bin:/bin`]);
  });
  afterAll(() => stopSshd(host));

  const finds = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

  /** A push, with the host's whole listings it cost. */
  async function pushed(lab: Lab, env: Record<string, string> = {}): Promise<{ pair: Pair; whole: number; answers: number }> {
    const before = finds();
    const r = await lab.cli(['data', 'push', '--json'], { env });
    const now = finds().slice(before.length);
    return { pair: pairOf(r), whole: now.filter((f) => f === 'whole').length, answers: now.filter((f) => f === 'answer').length };
  }

  /** What a whole find on the host prints for the pair's folder (it holds none of labsync's own folders). */
  const wholeFind = (dir: string): Buffer => {
    const [cmd, ...args] = findArgv([], { links: true });
    return execFileSync(cmd, args, { cwd: dir, maxBuffer: 1 << 28 });
  };

  function newLab(extra = ''): Lab {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: extra }));
    return lab;
  }

  /** The pair's host folder as a whole find lists it, and as the lab's folder holds it. */
  const expectCopied = (lab: Lab): void => {
    expect(lab.tree(lab.outside('gpu/raw'))).toEqual(lab.tree(lab.path('raw')));
    expect(wholeFind(lab.outside('gpu/raw')).includes(Buffer.from('\0l\0'))).toBe(false);
  };

  /** A lab pushed once (the host had nothing: listed whole after it), past the racy window for the next change. */
  async function pushedOnce(files: Record<string, string>, extra = ''): Promise<Lab> {
    const lab = newLab(extra);
    for (const [p, text] of Object.entries(files)) lab.write(lab.path('raw', p), text);
    await pastRacyWindow();
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: Object.keys(files).length });
    return lab;
  }

  const some = { a: 'one', 'sub/b': 'two', 'sub/c': 'three', 'old/x': 'x', 'old/y': 'y', 'keep/z': 'z' };

  it('one changed file: one whole find on the host (the listing before), the listing after patched from two finds over the paths', async () => {
    const lab = await pushedOnce(some);
    lab.write(lab.path('raw/sub/b'), 'TWO!');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, warnings: [], verify: { status: 'in_sync' } });
    // Its record and kind, and its folder's entries counted (find lists a folder past 10,000 by inode).
    expect([r.whole, r.answers]).toEqual([1, 2]);
    expectCopied(lab);
  });

  it('a mirror: a new file, a new folder, a deleted file and a deleted folder (deletions over their own login, the session answers after)', async () => {
    const lab = await pushedOnce(some, '    delete: true\n');
    lab.write(lab.path('raw/sub/new'), 'new').write(lab.path('raw/keep/fresh/deep/n'), 'deep new');
    rmSync(lab.path('raw/sub/c'));
    rmSync(lab.path('raw/old'), { recursive: true });
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', warnings: [], verify: { status: 'in_sync' } });
    // The deleted paths' kinds and their folders', and the two folders new files went into listed.
    expect([r.whole, r.answers]).toEqual([1, 2]);
    expectCopied(lab);
  });

  it('odd names (spaces, unicode, a leading dash) changed and new', async () => {
    const lab = await pushedOnce({ ...some, 'a b/c d': 'spaces', 'ü/日本': 'unicode', '-x/-y': 'dash' });
    lab.write(lab.path('raw/a b/c d'), 'spaces!').write(lab.path('raw/ü/日本'), 'unicode!').write(lab.path('raw/-x/-y'), 'dash!').write(lab.path('raw/-x/--new'), 'new');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 4, warnings: [], verify: { status: 'in_sync' } });
    // Records, counts, and the folder the new file went into listed.
    expect([r.whole, r.answers]).toEqual([1, 3]);
    expectCopied(lab);
  });

  it('lists the host whole after the transfer, and still verifies: LABSYNC_AFTER=whole, a new file at the top, a full check due, a find without -files0-from, a head not GNU\'s', async () => {
    const cases: [string, (lab: Lab) => void, Record<string, string>?, string?][] = [
      ['LABSYNC_AFTER=whole', (lab) => lab.write(lab.path('raw/sub/b'), 'changed'), { LABSYNC_AFTER: 'whole' }],
      ['a new file at the top', (lab) => lab.write(lab.path('raw/top-new'), 'new')],
      ['a full check due', (lab) => lab.write(lab.path('raw/sub/b'), 'changed'), {}, '    full_check: 1s\n'],
      ['no -files0-from', (lab) => {
        lab.write(lab.path('raw/sub/b'), 'changed');
        writeFileSync(join(switches, 'no-files0'), '');
      }],
      // Its -c would read the transfer's own line off the session: the host is asked nothing (touchMark).
      ['a head not GNU\'s', (lab) => {
        rmSync(join(switches, 'no-files0'), { force: true });
        lab.write(lab.path('raw/sub/b'), 'changed');
        writeFileSync(join(switches, 'not-gnu-head'), '');
      }],
    ];
    try {
      for (const [what, change, env, extra] of cases) {
        const lab = await pushedOnce(some, extra);
        change(lab);
        await pastRacyWindow();
        const r = await pushed(lab, env);
        expect(r.pair, what).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
        expect([r.whole, r.answers], what).toEqual([2, 0]);
        expectCopied(lab);
      }
    } finally {
      rmSync(join(switches, 'no-files0'), { force: true });
      rmSync(join(switches, 'not-gnu-head'), { force: true });
    }
  });

  it('answers not of their shape: the host is listed by a listing of its own, and the copy is verified', async () => {
    const lab = await pushedOnce(some);
    lab.write(lab.path('raw/sub/b'), 'changed');
    await pastRacyWindow();
    writeFileSync(join(switches, 'junk'), '');
    const r = await pushed(lab);
    expect(existsSync(join(switches, 'junk'))).toBe(false);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, warnings: [], verify: { status: 'in_sync' } });
    // The listing before, and the one a login of its own took after the answers were not used.
    expect(r.whole).toBe(2);
    expectCopied(lab);
  });

  it('a copy rewritten on the host between rsync --server and the answers is read there and repaired', async () => {
    const lab = await pushedOnce(some);
    lab.write(lab.path('raw/sub/b'), 'good');
    await pastRacyWindow();
    writeFileSync(join(switches, 'after-server'), `printf evil > '${lab.outside('gpu/raw/sub/b')}'`);
    const r = await pushed(lab);
    expect(existsSync(join(switches, 'after-server'))).toBe(false);
    expect(r.pair?.status).toBe('ok');
    expect(r.pair?.warnings.join('\n')).toContain('repaired 1 file that differed after the transfer: sub/b');
    expectCopied(lab);
  });
});
