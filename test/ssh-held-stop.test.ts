// A pair that ends while its held ssh session (engine/ssh-held.ts, exec/held.ts) is still open on a hung
// host: nothing waits for the listing after a relayed transfer any more (no verify), or the run is
// interrupted while it waits for that listing or for the first one. The host here hangs right after
// rsync --server exits, or in its listing (its wrapper stops itself with SIGSTOP), so the session can
// only end because labsync ends it: each case checks that the host never went on. Before, an
// interrupted run waited for the host until the pair's `timeout` (10m here), over a kept connection
// even after killing its ssh (the master holds the session's output: exec/held.ts endSession), and a
// run without verify left its ssh waiting on the host after it exited.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { coldLab, json, Lab } from './harness/lab.js';
import { keptMasters, processesLeft, processesMentioning } from './harness/processes.js';
import { sshdAvailable, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { sshPairManifest } from './harness/ssh-manifest.js';
import { pastRacyWindow, until } from './harness/wait.js';

type Doc = { pairs: { status: string; files: number; verify: { status: string } | null }[] };

/**
 * A host whose rsync --server, when the switch `hang` is there, stops itself once it has exited: its PID
 * goes to `hung`, and `went-on` is written only if it is ever let go (a session torn down sends it
 * SIGHUP with the SIGCONT, and it ends there).
 */
function hangingHost(): { dir: string; bin: string; switches: string } {
  const dir = mkdtempSync(join(tmpdir(), 'labsync-held-stop-'));
  const bin = join(dir, 'bin');
  const switches = join(dir, 'switches');
  mkdirSync(bin);
  mkdirSync(switches);
  const rsync = execFileSync('sh', ['-c', 'command -v rsync']).toString().trim();
  writeFileSync(join(bin, 'rsync'), `#!/bin/sh
case " $* " in *" --server "*)
  ${rsync} "$@"; rc=$?
  if [ -e ${switches}/hang ]; then rm -f ${switches}/hang; echo $$ > ${switches}/hung.tmp; mv ${switches}/hung.tmp ${switches}/hung; kill -STOP $$; echo >> ${switches}/went-on; fi
  exit $rc ;;
esac
exec ${rsync} "$@"
`);
  // `hang-find`: the host's listing stops itself the same way (the listing's own find, not a probe).
  const find = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
  writeFileSync(join(bin, 'find'), `#!/bin/sh
if [ -e ${switches}/hang-find ] && [ "$1" = . ]; then rm -f ${switches}/hang-find; echo $$ > ${switches}/hung.tmp; mv ${switches}/hung.tmp ${switches}/hung; kill -STOP $$; echo >> ${switches}/went-on; fi
exec ${find} "$@"
`);
  // `linger`: the listing leaves something of its own holding the session's output, so the session
  // does not end when the host's shell does (as a host that hangs at that moment).
  const sleep = execFileSync('sh', ['-c', 'command -v sleep']).toString().trim();
  writeFileSync(join(bin, 'find'), readFileSync(join(bin, 'find'), 'utf8').replace(`exec ${find}`, `if [ -e ${switches}/linger ] && [ "$1" = . ]; then rm -f ${switches}/linger; sh -c '${sleep} 300; :' labsync-linger ${switches} & fi
exec ${find}`));
  chmodSync(join(bin, 'rsync'), 0o755);
  chmodSync(join(bin, 'find'), 0o755);
  return { dir, bin, switches };
}

/** Whether `pid` is there and stopped (state T in /proc/<pid>/stat). */
const stopped = (pid: number): boolean => {
  try {
    return /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(!sshdAvailable())('a pair that ends while its held session is open on a hung host', () => {
  let host: SshHost;
  let w: ReturnType<typeof hangingHost>;
  const labs: Lab[] = [];
  beforeAll(async () => {
    w = hangingHost();
    host = await startSshd(join(w.dir, 'sshd'), [`SetEnv PATH=${w.bin}:/usr/local/bin:/usr/bin:/bin`]);
  });
  afterEach(async () => {
    // The host's side of the case just over: each wrapper either stops itself (after rsync --server, or in
    // its listing) or ends. One can still be on its way when its case ends (a run that ended its session
    // before the host got there: the --no-verify case); left alone, it would stop itself later and leave
    // its `hung` for the next case, whose SIGINT would then land before that run had set up its handler.
    // So: wait until none is still running, then kill them all.
    for (const p of processesMentioning(`labsync-linger ${w.switches}`)) process.kill(p.pid, 'SIGKILL');
    const wrappers = (): { pid: number }[] => processesMentioning(`${w.bin}/`);
    await until('the host\'s wrappers to stop or end', () => wrappers().every((p) => stopped(p.pid)), 10_000);
    for (const p of wrappers()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await until('the host\'s stopped wrappers to be gone', () => wrappers().length === 0, 10_000);
    // A case that failed before its host hung leaves its switch: the next case's first push would hang on it.
    for (const name of ['went-on', 'hang', 'hang-find', 'linger', 'hung']) rmSync(join(w.switches, name), { force: true });
  });
  afterAll(async () => {
    await stopSshd(host);
    await until('every kept connection to end with its host', () => labs.every((lab) => keptMasters(lab.root).length === 0));
    rmSync(w.dir, { recursive: true, force: true });
    for (const lab of labs) rmSync(lab.root, { recursive: true, force: true });
  });

  /** A lab whose pair has pushed once (the folder is on the host), with one file changed since: the next push relays it. */
  async function pushedOnce(kept: boolean): Promise<Lab> {
    const lab = kept ? new Lab('labsync-held-stop-') : coldLab('labsync-held-stop-');
    // A short cache folder: a kept connection's socket must fit in a unix socket path.
    if (kept) lab.env.XDG_CACHE_HOME = lab.outside('c');
    labs.push(lab);
    lab.manifest(sshPairManifest(host, lab, { pair: '    timeout: 10m\n' }));
    lab.write(lab.path('raw/a'), 'alpha').write(lab.path('raw/b'), 'beta');
    const first = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_EARLY_SSH: '0' } });
    expect(first.exitCode, first.stderr).toBe(0);
    lab.write(lab.path('raw/a'), 'alpha, again');
    await pastRacyWindow();
    return lab;
  }

  const hungPid = (): number => Number(readFileSync(join(w.switches, 'hung'), 'utf8'));

  /** SIGINT to a run whose host hangs: it ends at once, interrupted, the host never let go, the copy's `a` still `content`, no ssh client of the run left. */
  async function interruptedWhileHung(lab: Lab, run: ReturnType<Lab['spawn']>, ended: () => boolean, content: string): Promise<void> {
    expect(ended()).toBe(false);
    run.kill('SIGINT');
    await until('the interrupted run to end while its host hangs', ended, 30_000);
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(json<Doc>({ stdout: String(r.stdout) } as never).pairs[0]?.status).toBe('interrupted');
    expect(existsSync(join(w.switches, 'went-on'))).toBe(false);
    expect(readFileSync(lab.outside('gpu', 'raw', 'a'), 'utf8')).toBe(content);
    await until('the run\'s ssh client to be gone', () => processesLeft(lab.outside('gpu')).every((p) => !/^ssh /.test(p.cmdline)));
  }

  for (const kept of [false, true]) {
    const how = kept ? 'over a kept connection' : 'cold';
    it(`${how}: --no-verify, the host hung after the relayed transfer: the run ends at once, the file sent`, async () => {
      const lab = await pushedOnce(kept);
      writeFileSync(join(w.switches, 'hang'), '');
      const run = lab.spawn(['data', 'push', '--no-verify', '--json'], { env: { LABSYNC_EARLY_SSH: '0', LABSYNC_TRACE: '1' } });
      let ended = false;
      void run.then(() => void (ended = true));
      await until('the run to end while its host hangs', () => ended, 30_000);
      const r = await run;
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stderr)).toContain('relayed rsync ended');
      expect(json<Doc>({ stdout: String(r.stdout) } as never).pairs[0]).toMatchObject({ status: 'ok', files: 1, verify: null });
      // The host never went on: the session ended because labsync ended it.
      expect(existsSync(join(w.switches, 'went-on'))).toBe(false);
      expect(readFileSync(lab.outside('gpu', 'raw', 'a'), 'utf8')).toBe('alpha, again');
      // Nothing of the run is left here (the host's stopped side is the host's); a kept master stays, by design.
      await until('the run\'s ssh client to be gone', () => processesLeft(lab.outside('gpu')).every((p) => !/^ssh /.test(p.cmdline)));
    });

    it(`${how}: interrupted while it waits for the hung host's listing after the transfer: the run ends at once`, async () => {
      const lab = await pushedOnce(kept);
      writeFileSync(join(w.switches, 'hang'), '');
      const run = lab.spawn(['data', 'push', '--json'], { env: { LABSYNC_EARLY_SSH: '0', LABSYNC_TRACE: '1' } });
      let ended = false;
      void run.then(() => void (ended = true));
      // The host has stopped after rsync --server, and the local rsync (its -e the relay) has ended:
      // labsync now waits for the host's listing after the transfer.
      const relaying = (): boolean => processesMentioning(lab.root).some((p) => p.cmdline.includes('labsync-relay'));
      await until('the relayed transfer to end and the host to hang', () => existsSync(join(w.switches, 'hung')) && stopped(hungPid()) && !relaying(), 30_000);
      await interruptedWhileHung(lab, run, () => ended, 'alpha, again');
    });

    it(`${how}: interrupted while the hung host lists in the held session: the run ends at once`, async () => {
      const lab = await pushedOnce(kept);
      writeFileSync(join(w.switches, 'hang-find'), '');
      const run = lab.spawn(['data', 'push', '--json'], { env: { LABSYNC_EARLY_SSH: '0', LABSYNC_TRACE: '1' } });
      let ended = false;
      void run.then(() => void (ended = true));
      await until('the host to hang in its listing', () => existsSync(join(w.switches, 'hung')) && stopped(hungPid()), 30_000);
      await interruptedWhileHung(lab, run, () => ended, 'alpha');
    });

    // The session listed, then released unused (nothing to send; the guard refused): not waited for, and not left behind.
    for (const [what, more, code, status] of [
      ['nothing to send', '', 0, 'ok'],
      ['the guard refused its deletion', '    delete: true\n    max_delete: 0\n', 3, 'refused'],
    ] as const) {
      it(`${how}: ${what}, the host keeping its session open: the run ends, and no ssh of it is left`, async () => {
        const lab = await pushedOnce(kept);
        if (more) lab.manifest(sshPairManifest(host, lab, { pair: `    timeout: 10m\n${more}` }));
        const synced = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_EARLY_SSH: '0' } });
        expect(synced.exitCode, synced.stderr).toBe(0);
        if (more) rmSync(lab.path('raw/b'));
        writeFileSync(join(w.switches, 'linger'), '');
        const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_EARLY_SSH: '0' } });
        expect(r.exitCode, r.stderr).toBe(code);
        expect(json<Doc>(r).pairs[0]?.status).toBe(status);
        expect(processesMentioning(`labsync-linger ${w.switches}`)).toHaveLength(1);
        await until('the run\'s ssh client to be gone', () => processesLeft(lab.outside('gpu')).every((p) => !/^ssh /.test(p.cmdline)));
        expect(readFileSync(lab.outside('gpu', 'raw', 'b'), 'utf8')).toBe('beta');
      });
    }
  }
});
