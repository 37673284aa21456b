// Starting one child process: its own process group, exactly its environment, its input fed, its
// output collected, dying with labsync where the platform allows. run.ts adds the timeouts, the stall
// watchdog and the stop around it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runnableSync } from './which.js';

let deathWrap: readonly string[] | undefined;

/**
 * The argv prefix that makes a child die with labsync (Linux: util-linux's setpriv, which sets
 * PR_SET_PDEATHSIG and execs the program, same pid and group). A labsync killed with SIGKILL, by the
 * OOM killer or a closed terminal cannot stop its children, which run in their own groups: its rsync
 * wrote on beside the next run's (review 42). Probed once per process (an old setpriv lacks the
 * option); none where there is no setpriv, or with LABSYNC_PDEATHSIG=0.
 */
function dieWithLabsync(): readonly string[] {
  if (deathWrap) return deathWrap;
  deathWrap = [];
  if (process.platform !== 'linux' || process.env.LABSYNC_PDEATHSIG === '0') return deathWrap;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  if (setpriv && spawnSync(setpriv, ['--pdeathsig', 'TERM', '--', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0) deathWrap = [setpriv, '--pdeathsig', 'TERM', '--'];
  return deathWrap;
}

/** How long a child's output may stay open after it exited (what a background process it left holds). */
const EXIT_GRACE_MS = 1500;

/** What a finished child gave: execa's answer, without loading execa (~24 ms of CPU at every run's first process). */
export interface Finished { exitCode?: number; signal?: NodeJS.Signals; code?: string; stdout: Buffer; stderr: Buffer }

/**
 * Starts `program` in its own process group with exactly `env`, feeds `input` (else no stdin), and
 * collects stdout and stderr whole; settles once the child is gone and both streams are closed (or
 * EXIT_GRACE_MS after it exited, whatever it left holding them).
 * Never rejects: a child that could not start comes back with the error's code (ENOENT, EACCES).
 */
export function startChild(program: string, args: readonly string[], o: { cwd: string; env: Record<string, string | undefined>; input?: string; fds?: readonly number[]; stdoutFd?: number }): { pid?: number; stdout: NodeJS.ReadableStream | null; stderr: NodeJS.ReadableStream | null; done: Promise<Finished> } {
  let child: ReturnType<typeof spawn>;
  // Two fds handed over (a held session's pipes) go in as the child's 0 and 1, which libuv makes
  // blocking in the child (a `cat` reading a non-blocking pipe would fail with EAGAIN); `sh` moves them
  // to 3 and 4, the child's own stdin and stdout from 5 and 6 to 0 and 1, and execs the program (same
  // pid and group). One fork of this process instead of two: node's fork costs CPU with its size
  // (~6 ms at a run's ~100 MB, ~0.8 ms at 45 MB).
  const two = o.fds?.length === 2 ? o.fds : undefined;
  // Only around a program that exists: one that does not must fail to start (ENOENT), as it did, not
  // come back as setpriv's exit.
  const [wrapper, ...wrapped] = runnableSync(program, o.env.PATH) ? dieWithLabsync() : [];
  let stdin: NodeJS.WritableStream | null = null;
  let stdout: NodeJS.ReadableStream | null = null;
  try {
    if (two) {
      const script = `exec 3<&0 4>&1 ${o.input === undefined ? '</dev/null' : '<&5'} >&6 5<&- 6>&- && exec "$0" "$@"`;
      child = spawn(wrapper ?? 'sh', [...wrapped, ...(wrapper ? ['sh'] : []), '-c', script, program, ...args], { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, stdio: [two[0] as number, two[1] as number, 'pipe', 'ignore', 'ignore', o.input === undefined ? 'ignore' : 'pipe', o.stdoutFd ?? 'pipe'], detached: true });
      const pipes = child.stdio as unknown as readonly (NodeJS.ReadableStream & NodeJS.WritableStream | null | undefined)[];
      stdin = pipes[5] ?? null;
      stdout = pipes[6] ?? null;
    } else {
      // `fds`: open fds the child gets as 3, 4, … as they are (node's spawn dups them).
      child = spawn(wrapper ?? program, [...wrapped, ...(wrapper ? [program] : []), ...args], { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, stdio: [o.input === undefined ? 'ignore' : 'pipe', o.stdoutFd ?? 'pipe', 'pipe', ...(o.fds ?? [])], detached: true });
      stdin = child.stdin;
      stdout = child.stdout;
    }
  } catch (error) {
    // Arguments node refuses outright (a NUL byte in one): the command could not start.
    return { stdout: null, stderr: null, done: Promise.resolve({ code: (error as NodeJS.ErrnoException).code ?? 'ESPAWN', stdout: Buffer.alloc(0), stderr: Buffer.from((error as Error).message) }) };
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<Finished>((resolve) => {
    let settled = false;
    const settle = (f: Omit<Finished, 'stdout' | 'stderr'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...f, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      // Only a child that never started ends here; an error after the start still gets its 'close'.
      if (child.pid === undefined) settle({ code: e.code ?? 'ESPAWN' });
    });
    const ended = (exitCode: number | null, signal: NodeJS.Signals | null): Omit<Finished, 'stdout' | 'stderr'> => ({ ...(exitCode === null ? {} : { exitCode }), ...(signal ? { signal } : {}) });
    let grace: NodeJS.Timeout | undefined;
    // A child that exited while a process it started holds its output open (a hook's `tunnel &`, a
    // daemon) is done: its last output gets a grace, then its pipes are closed (review 42: a run
    // waited on them to the pair's timeout, its lock held).
    child.once('exit', (exitCode, signal) => {
      grace = setTimeout(() => {
        for (const s of [stdout, child.stderr]) (s as import('node:stream').Readable | null)?.destroy();
        settle(ended(exitCode, signal));
      }, EXIT_GRACE_MS);
      grace.unref();
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(grace);
      settle(ended(exitCode, signal));
    });
  });
  if (o.input !== undefined && stdin) {
    // A child that exits without reading all of its input (EPIPE) answers with its exit code, as under execa.
    stdin.on('error', () => undefined);
    stdin.end(o.input);
  }
  return { ...(child.pid === undefined ? {} : { pid: child.pid }), stdout, stderr: child.stderr, done };
}

