// An ssh session kept open after its first answer (adapters/rsync/held.ts is what runs there): read
// until the host's marker, then either released (the host's `read` meets end of file and it exits) or
// handed to one rsync child as fds 3 and 4, whose relay talks through it; what the host says after
// that comes on stderr, which this process reads to the end.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Command, ToolOutput } from '../adapters/types.js';
import { programOf } from './program.js';
import { mark as trace } from '../util/trace.js';
import { childEnv, run, trackGroup, untrackGroup, type RunOptions } from './run.js';
import { takeEarly, type EarlyChild, type Ended } from './early.js';

export interface HeldFailure {
  readonly exitCode: number;
  readonly stderr: string;
}

export interface Session {
  /** stdout up to (without) the marker. */
  readonly listed: Buffer;
  /** Which of the marks given to holdSession ended it (its index). */
  readonly marked: number;
  /**
   * Ends the session. Unused: the host reads end of file where it waited for a line, and exits. Used,
   * with what the host says after still to come (`after`, `ask`): ended at once, as on the run's
   * signal, since nobody reads it any more: a pair that stopped early (no verify, a stop, a throw)
   * must not leave its ssh behind waiting on a host that may hang.
   */
  release(): void;
  /**
   * Runs `command` (an rsync whose `-e` is the relay) with the session as its fds 3 and 4; settles when
   * rsync has ended. `after`: the host's stderr once the session ended, when it ended well (exit 0);
   * else undefined. The session may still be listing when rsync ends: `after` waits for it.
   */
  relay(command: Command, options: RunOptions, preface?: Buffer): Promise<{ output: ToolOutput; after: Promise<Buffer | undefined> }>;
  /** Writes `line` and waits (at most `timeoutMs`) for the session to end: its stderr if it ended well (undefined if already used). */
  ask(line: string | Buffer, timeoutMs: number): Promise<Buffer | undefined>;
}

/** Starts the session's child, or takes the one bin/labsync.js started early for this very command (early.ts). */
function started(command: Command): EarlyChild {
  const program = programOf(command.tool);
  const early = takeEarly(program, command);
  // One that has ended already (a host that refused it while the CLI loaded) is as good as none: a
  // login now may meet a host that is up by now.
  if (early && (early.child.exitCode !== null || early.child.signalCode !== null)) trace('ssh early session had ended: not taken');
  else if (early) {
    early.child.ref();
    for (const s of [early.child.stdin, early.child.stdout, early.child.stderr]) (s as unknown as { ref?: () => void }).ref?.();
    trace('ssh taken (early)');
    return early;
  }
  const child = spawn(program, command.args, { cwd: command.cwd, env: childEnv(command), stdio: ['pipe', 'pipe', 'pipe'], detached: true }) as ChildProcessWithoutNullStreams;
  trace('ssh spawned (held)');
  const errs: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => errs.push(b));
  const ended = new Promise<Ended>((resolve) => {
    child.on('error', () => resolve({ code: 127, signal: null }));
    child.on('close', (code, signal) => resolve({ code: code ?? 128, signal }));
  });
  return { program, args: command.args, cwd: command.cwd, child, errs, ended };
}

/** `timeoutMs`: for the first answer; the relayed rsync has its own bounds (its RunOptions). */
/** `marks`: what may end the listing (a host says what it can by which it prints); the session keeps which one did. */
export function holdSession(command: Command, marks: Buffer | readonly Buffer[], o: { timeoutMs: number; signal?: AbortSignal }): Promise<Session | HeldFailure> {
  const ends = Buffer.isBuffer(marks) ? [marks] : marks;
  const longest = Math.max(...ends.map((m) => m.length));
  const { child, errs, ended: over } = started(command);
  const pid = child.pid;
  if (pid !== undefined) trackGroup(pid);
  const ended = over.then((e) => {
    if (pid !== undefined) untrackGroup(pid);
    return e;
  });
  const stop = (): void => endSession(child);
  child.stdin.on('error', () => undefined); // the host gone: its end of file or exit says so
  if (command.input !== undefined) child.stdin.write(command.input);
  return new Promise((resolve) => {
    // Chunks kept apart (a host's listing can be tens of MB): only the tail is looked at for the marker.
    const chunks: Buffer[] = [];
    let tail: Buffer = Buffer.alloc(0);
    const timer = setTimeout(stop, o.timeoutMs);
    const onAbort = (): void => stop();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const onData = (b: Buffer): void => {
      chunks.push(b);
      tail = b.length >= longest ? b.subarray(b.length - longest) : Buffer.concat([tail, b]).subarray(-longest);
      // The host prints nothing after the marker until it is given a line: the marker ends what came.
      const marked = ends.findIndex((m) => tail.length >= m.length && tail.subarray(tail.length - m.length).equals(m));
      if (marked < 0) return;
      const mark = ends[marked] as Buffer;
      trace('held listing arrived');
      const out = Buffer.concat(chunks);
      child.stdout.off('data', onData);
      child.stdout.pause();
      done();
      // Unused from here, the session must not keep labsync alive: if labsync ends, its pipes close
      // and the host's `read` ends the session.
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
      resolve(session(child, out.subarray(0, out.length - mark.length), marked, errs, ended, o.signal));
    };
    child.stdout.on('data', onData);
    void ended.then((e) => {
      done();
      resolve({ exitCode: e.code, stderr: Buffer.concat(errs).toString('utf8') });
    });
  });
}

function session(child: ChildProcessWithoutNullStreams, listed: Buffer, marked: number, errs: Buffer[], ended: Promise<Ended>, signal: AbortSignal | undefined): Session {
  let used = false;
  let over = false;
  const endNow = (): void => {
    if (!over) endSession(child);
  };
  void ended.then(() => {
    over = true;
    signal?.removeEventListener('abort', endNow);
  });
  // From the relayed rsync's end (or the ask) to the session's: the run's signal ends it at once. Not
  // before: the relayed rsync is stopped its own graceful way (run.ts), and an unused session is released.
  const owe = (): void => {
    if (signal?.aborted) endNow();
    else signal?.addEventListener('abort', endNow, { once: true });
  };
  return {
    listed,
    marked,
    release() {
      if (used) return void endNow();
      used = true;
      child.stdin.end();
      child.stdout.destroy();
      // Not waited for (the host's `read` meets end of file and it exits, in moments), but not left
      // behind either: on a host that does not end the session (hung, or something of its own still
      // holding the session's output), this ssh would outlive the run.
      const pid = child.pid;
      if (pid === undefined) return;
      releasedAlive.add(pid);
      if (releasedAlive.size === 1 && !process.listeners('exit').includes(stopReleased)) process.on('exit', stopReleased);
      void ended.then(() => releasedAlive.delete(pid));
    },
    async relay(command, options, preface) {
      if (used) throw new Error('the held ssh session was already used');
      used = true;
      const fds = [fdOf(child.stdout), fdOf(child.stdin)];
      if (fds.some((fd) => fd < 0)) throw new Error('the held ssh session has no pipes to hand over');
      errs.length = 0;
      // `preface` (the host's questions for after the transfer: engine/host-after.ts) is in the pipe before
      // rsync's relay writes to it. A host that does not read it within the stall bound (a hung host: no
      // progress) is ended and rsync not started: a timed-out first attempt, and the transfer goes its
      // usual way; the run's signal ends the wait at once.
      const bound = Math.min(options.timeoutMs ?? 60_000, options.stall?.ms ?? Infinity);
      const wrote = preface?.length ? await flushed(child, preface, bound, options.signal) : 'ok';
      if (wrote !== 'ok') {
        endNow();
        const stderr = wrote === 'aborted' ? 'interrupted' : 'labsync: the held ssh session did not read what was written to it in time';
        return { output: { exitCode: 255, stdout: '', stderr, durationMs: bound, timedOut: wrote === 'late', aborted: wrote === 'aborted' }, after: Promise.resolve(undefined) };
      }
      const output = await run(command, {
        ...options,
        // This process's copies closed in the spawn's tick: from then on only rsync's relay reads them.
        handOver: { fds, spawned: () => {
          child.stdout.destroy();
          child.stdin.destroy();
        } },
      });
      trace('relayed rsync ended');
      child.ref();
      (child.stderr as unknown as { ref?: () => void }).ref?.();
      // rsync failed: its listing would not be used, and a link gone silent would hold this ssh until
      // its keep-alive gives up. Ended now.
      if (output.exitCode !== 0 || output.stalled || output.timedOut || output.aborted) endNow();
      // The relayed rsync is over: the host lists once more and exits (bounded as the rsync was, and
      // ended at once by the run's signal or a release).
      owe();
      const timer = setTimeout(endNow, options.timeoutMs ?? 60_000);
      const after = ended.then((end) => {
        trace('held session ended');
        clearTimeout(timer);
        return end.code === 0 && !end.signal ? Buffer.concat(errs) : undefined;
      });
      return { output, after };
    },
    async ask(line, timeoutMs) {
      if (used) return undefined; // spent on a relay that failed: the caller lists its usual way
      used = true;
      errs.length = 0;
      child.stdout.destroy();
      child.stdin.end(line);
      child.ref();
      (child.stderr as unknown as { ref?: () => void }).ref?.();
      owe();
      const timer = setTimeout(endNow, timeoutMs);
      const end = await ended;
      clearTimeout(timer);
      return end.code === 0 && !end.signal ? Buffer.concat(errs) : undefined;
    },
  };
}

/** Sessions released unused and not yet ended: stopped when this process exits (one listener for all, as `watch` releases one a run). */
const releasedAlive = new Set<number>();
function stopReleased(): void {
  for (const pid of releasedAlive) stopGroup(pid);
}

/**
 * Kills the session's process group and lets go of its output. Over a kept connection the master holds
 * the session's stdout and stderr too (ssh hands a mux client's fds to it, and keeps them while a hung
 * host keeps the channel open): the child's 'close', which waits for both, would not come.
 */
function endSession(child: ChildProcessWithoutNullStreams): void {
  stopGroup(child.pid);
  child.stdout.destroy();
  child.stderr.destroy();
}

function stopGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Writes `data` to the session's stdin: 'ok' once the system took it; 'late' past `ms` or the pipe gone; 'aborted' on the run's signal. */
function flushed(child: ChildProcessWithoutNullStreams, data: Buffer, ms: number, signal: AbortSignal | undefined): Promise<'ok' | 'late' | 'aborted'> {
  if (signal?.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const settle = (how: 'ok' | 'late' | 'aborted'): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(how);
    };
    const onAbort = (): void => settle('aborted');
    const timer = setTimeout(() => settle('late'), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdin.write(data, (error) => settle(error ? 'late' : 'ok'));
  });
}

function fdOf(stream: unknown): number {
  const fd = (stream as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
