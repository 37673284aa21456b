// One ssh login where a run needs several: each ssh after the first rides the first one's connection
// (OpenSSH ControlMaster), so it pays for one key exchange and login instead of one each. The socket
// lives in a private temp folder (mode 0700) that is removed at the end; the master is told to exit
// then, and ControlPersist bounds its life if labsync dies first. https://man.openbsd.org/ssh_config#ControlMaster
//
// When (measured on loopback, 10k files; see README "Speed"): a run with nothing to send lists the
// host once, and a master set up for that one listing only adds its start and `-O exit` (a no-op push
// took 1423 ms shared against 616 ms). A run that sends lists once, transfers, and lists again (and
// a snapshot push, a repair): there the transfer's ssh becomes the master and the listing after it
// rides it, one login fewer. LABSYNC_SSH_SHARE=1 shares from the first listing on, =0 never. A push
// whose listing session is held (ssh-held.ts, the default) needs none of this: one session does it all,
// and nor does a pair whose connection is kept between runs (ssh-keep.ts): it shares already.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepsConnection, ownSharing, sshCommand, sshTarget } from '../adapters/rsync/ssh.js';
import type { Redactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import type { ResolvedPair } from '../types.js';

/** Seconds an idle master waits for another client: long enough for verify after a transfer, short if labsync is killed. */
const PERSIST_S = 30;

/**
 * Whether this pair's ssh calls already share a connection: the user's options, labsync's from an
 * outer call, or the connection kept between runs (ssh-keep.ts), whose master outlives the run and
 * is never told to exit here.
 */
export const sharesSsh = (pair: ResolvedPair): boolean => pair.remote.type === 'ssh' && (ownSharing(pair.remote.sshOptions) || keepsConnection(pair.remote));

/**
 * `from`: 'run' (the whole pair, only with LABSYNC_SSH_SHARE=1) or 'transfer' (from the transfer on,
 * unless LABSYNC_SSH_SHARE=0). Runs `body` with a pair whose ssh commands share one connection; the
 * master is stopped after. A pair already sharing (theirs, or an outer call's) runs as it is.
 */
export async function withSharedSsh<T>(pair: ResolvedPair, redact: Redactor, body: (pair: ResolvedPair) => Promise<T>, from: 'run' | 'transfer' = 'run'): Promise<T> {
  const remote = pair.remote;
  const wanted = from === 'run' ? process.env.LABSYNC_SSH_SHARE === '1' : process.env.LABSYNC_SSH_SHARE !== '0';
  // rsync only: its -e ssh, the listing and the hashing are all OpenSSH clients labsync starts itself.
  if (remote.type !== 'ssh' || pair.tool !== 'rsync' || process.platform === 'win32' || !wanted || sharesSsh(pair)) return body(pair);
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
