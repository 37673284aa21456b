// The host's listing after a push over its held session, patched from its listing before
// (engine/host-after.ts) instead of listed whole: byte for byte what a whole find on the host prints,
// after real pushes through a real sshd, rsync and find. The host's find is a wrapper that counts the
// whole listings (`find .`), so a run's cost is counted, not timed.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findArgv } from '../src/verify/find-list.js';
import { treeKey } from '../src/verify/cache-key.js';
import { json, Lab } from './harness/lab.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow } from './harness/wait.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

type Pair = { status: string; files: number; error?: string; warnings: string[]; verify: { status: string; proof?: string } | null };
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/** A host whose find logs each whole listing (`find .`), and each find over paths it is given: the probe, a hash, an answer after a transfer. */
function countingHost(): { dir: string; bin: string; log: string } {
  const dir = tempDir('labsync-host-after-');
  const bin = join(dir, 'bin');
  const log = join(dir, 'finds');
  mkdirSync(bin);
  const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
  writeFileSync(join(bin, 'find'), `#!/bin/sh
case "$1 $2 $*" in '. '*) echo whole ;; '-files0-from /dev/null'*) echo probe ;; *' -exec '*) echo hash ;; -files0-from*) echo answer ;; esac >> '${log}'
exec ${real} "$@"
`);
  chmodSync(join(bin, 'find'), 0o755);
  return { dir, bin, log };
}

describe.skipIf(!sshdAvailable())('the host listed after a push: patched, as a whole find prints it', () => {
  let host: SshHost;
  let log: string;
  beforeAll(async () => {
    const h = countingHost();
    log = h.log;
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

  /** The host's listing the run kept as proved (its next run compares with it record by record). */
  const keptListing = (lab: Lab): Buffer => readFileSync(join(lab.path('.labsync', 'cache'), `${treeKey(`ssh://${host.user}@127.0.0.1:${host.port}${lab.outside('gpu/raw')}`)}.listing`));

  function newLab(extra = ''): Lab {
    const lab = new Lab();
    lab.manifest(sshPairManifest(host, lab, { pair: extra }));
    return lab;
  }

  it('one changed file: one whole find on the host (the listing before), and the listing after is a whole find\'s, byte for byte', async () => {
    const lab = newLab();
    lab.write(lab.path('raw/a'), 'one').write(lab.path('raw/sub/b'), 'two').write(lab.path('raw/sub/c'), 'three');
    await pastRacyWindow();
    expect((await pushed(lab)).pair).toMatchObject({ status: 'ok', files: 3 });
    lab.write(lab.path('raw/sub/b'), 'TWO!');
    await pastRacyWindow();
    const r = await pushed(lab);
    expect(r.pair).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' } });
    expect([r.whole, r.answers]).toEqual([1, 3]);
    expect(keptListing(lab).equals(wholeFind(lab.outside('gpu/raw')))).toBe(true);
  });
});
