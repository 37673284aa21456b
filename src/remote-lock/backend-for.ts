// Which lock backend a pair's remote gets, or why it gets none (rclone; S3 that labsync's own client cannot reach).
import { sshCommand, sshTarget } from '../adapters/rsync/ssh.js';
import { awsConfigText } from '../engine/listings.js';
import type { Redactor } from '../exec/redact.js';
import { directTarget } from '../exec/s3-direct.js';
import { run } from '../exec/run.js';
import { adapterFor } from '../adapters/index.js';
import { formatCommand } from '../exec/format.js';
import type { ResolvedPair } from '../types.js';
import { dirLock, type RunScript } from './dir-lock.js';
import { lockDir } from './dir-script.js';
import { s3Lock } from './s3.js';
import { forgetHonours, honoursConditions, rememberHonours } from './s3-conditions.js';
import { FatalLockError, NothingToLockError, type LockBackend, type NoRemoteLock } from './types.js';

export { FatalLockError };

export interface BackendOptions {
  readonly redact: Redactor;
  /** Each request's (or ssh call's) own bound. */
  readonly requestTimeoutMs: number;
  /** Requests and processes made, for the cost measurement and the tests. */
  readonly count?: { n: number };
  /** A pull: a remote folder that is not there is not made (nothing to lock; the pull says what is wrong). */
  readonly pull?: boolean;
}

/** The bound of one lock request: the pair's stall timeout, at most 30 s. */
export const lockRequestMs = (pair: ResolvedPair): number => Math.min(30_000, pair.stallTimeoutMs);

/** Why a remote cannot hold a lock; undefined where it can. Also what `validate` says. */
export function whyNoRemoteLock(pair: ResolvedPair, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const r = pair.remote;
  if (r.type === 'rclone') return `rclone remote '${r.remote}' offers no conditional write labsync can use; only the local lock (.labsync/locks) is taken`;
  if (r.type === 's3') {
    const t = directTarget(r, env, awsConfigText(env));
    if ('reason' in t) return `labsync's own S3 client cannot reach this bucket (${t.reason}), and aws-cli has no conditional write; only the local lock is taken`;
  }
  return undefined;
}

export function backendFor(pair: ResolvedPair, o: BackendOptions): LockBackend | NoRemoteLock {
  const r = pair.remote;
  const why = whyNoRemoteLock(pair);
  if (why) return { fallback: why };
  const script = (argv: readonly string[], label: string): RunScript => async (text) => {
    const [tool, ...args] = argv as [string, ...string[]];
    if (o.count) o.count.n += 1;
    const command = { tool, args: [...args, text], cwd: pair.root, mutates: true, label, pair: pair.name };
    const out = await run(command, { redact: o.redact, timeoutMs: o.requestTimeoutMs });
    if (out.timedOut) throw new Error(`${label}: no answer in ${o.requestTimeoutMs} ms`);
    // 127: the host's shell lacks mkdir, mv, rm or the like; such a host holds no lock (the run says so).
    if (out.exitCode === 127) throw new NothingToLockError(`the shell there cannot run the lock's script (${o.redact(out.stderr.trim().split('\n').pop() ?? '')})`);
    if (out.exitCode !== 0) {
      // ssh's own failures are read as rsync's are (a refused key is fatal: never retried).
      const outcome = tool === 'ssh' ? adapterFor('rsync').classify(out, command) : undefined;
      if (outcome?.kind === 'fatal') throw new FatalLockError(`${outcome.reason} — ${formatCommand({ ...command, args: [...args, '<lock script>'] }, o.redact)}`);
      throw new Error(`${label}: exit ${out.exitCode}: ${o.redact(out.stderr.trim().split('\n').slice(-2).join(' ')) || '(no message)'}`);
    }
    return out.stdout;
  };
  switch (r.type) {
    case 's3': {
      const t = directTarget(r, process.env, awsConfigText(process.env));
      if ('reason' in t) return { fallback: t.reason };
      // The whole endpoint URL: two path-style stores on one host are two stores.
      const store = `${t.base.href} ${t.bucket}`;
      return s3Lock(t, {
        requestTimeoutMs: o.requestTimeoutMs, pull: Boolean(o.pull), ...(o.count ? { count: o.count } : {}),
        honours: honoursConditions(pair.root, store), onHonours: () => rememberHonours(pair.root, store), onIgnored: () => forgetHonours(pair.root, store),
      });
    }
    case 'ssh': {
      const [, ...options] = sshCommand(r, pair.stallTimeoutMs);
      const where = `${sshTarget(r)}:${lockDir(r.path)}`;
      // ssh joins its arguments into one string for the login shell there: the script is that string.
      return dirLock(where, r.path, script(['ssh', ...options, '--', sshTarget(r)], `the lock at ${where}`), !o.pull);
    }
    case 'local':
      return dirLock(lockDir(r.path), r.path, script(['sh', '-c'], `the lock at ${lockDir(r.path)}`), !o.pull);
    default:
      return { fallback: `a ${r.type} remote holds no lock` };
  }
}
