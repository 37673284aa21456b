// One ssh connection per pair run, shared by the listing, rsync and the listing after it: each ssh
// after the first rides the first one's connection (OpenSSH ControlMaster), so a push pays for one
// key exchange and login instead of three. The socket lives in a private temp folder (mode 0700) that
// is removed at the end; the master is told to exit then, and ControlPersist bounds its life if labsync
// dies first. https://man.openbsd.org/ssh_config#ControlMaster
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshCommand } from '../adapters/rsync/argv.js';
import { sshTarget } from '../adapters/rsync/remote.js';
import type { Redactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import type { ResolvedPair } from '../types.js';

/** Seconds an idle master waits for another client: long enough for verify after a transfer, short if labsync is killed. */
const PERSIST_S = 30;

/** Whether the user's own options already decide connection sharing (theirs win; labsync adds nothing). */
const ownSharing = (options: readonly string[]): boolean => options.some((o) => /^\s*control(master|path|persist)\b/i.test(o));

/**
 * Runs `body` with a pair whose ssh commands share one connection; the master is stopped after.
 * Opt-in (LABSYNC_SSH_SHARE=1): on loopback, idle machine, 10k files, a no-op push took 1423 ms with
 * the shared connection and 616 ms without (one changed file: 1429 against 1594 ms); where logins are
 * dear (a long round trip, a slow key agent) it pays.
 */
export async function withSharedSsh<T>(pair: ResolvedPair, redact: Redactor, body: (pair: ResolvedPair) => Promise<T>): Promise<T> {
  const remote = pair.remote;
  // rsync only: its -e ssh, the listing and the hashing are all OpenSSH clients labsync starts itself.
  if (remote.type !== 'ssh' || pair.tool !== 'rsync' || process.platform === 'win32' || process.env.LABSYNC_SSH_SHARE !== '1' || ownSharing(remote.sshOptions)) return body(pair);
  // Short: a unix socket path has ~104 bytes, and ssh appends a random suffix while it sets up.
  const dir = mkdtempSync(join(tmpdir(), 'lsm-'));
  const socket = join(dir, 's');
  const shared: ResolvedPair = { ...pair, remote: { ...remote, sshOptions: [...remote.sshOptions, 'ControlMaster=auto', `ControlPath=${socket}`, `ControlPersist=${PERSIST_S}`] } };
  try {
    return await body(shared);
  } finally {
    const [, ...options] = sshCommand(shared.remote as typeof remote, pair.stallTimeoutMs);
    // -O exit: the master ends now (no master running: ssh says so and exits; nothing to do).
    await run({ tool: 'ssh', args: [...options, '-O', 'exit', '--', sshTarget(remote)], cwd: pair.root, mutates: false, label: `close the ssh connection to ${sshTarget(remote)}` }, { redact, timeoutMs: 10_000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
