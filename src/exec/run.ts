// The ONLY place labsync runs a tool (started by start-child.ts; with held.ts, the ssh session a push
// keeps open). Tool failures come back as values (ToolOutput).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, ToolOutput } from '../adapters/types.js';
import { programOf } from './program.js';
import { startChild } from './start-child.js';
import { mark } from '../util/trace.js';
import { makeRedactor, type Redactor } from './redact.js';
import { groupReads, readSince, StallWatch, type ParseProgress } from './stall.js';

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Each line of stdout/stderr as it arrives (progress lines end in \r, so both split). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly redact: Redactor;
  /** Grace between SIGTERM and SIGKILL when stopping a child. */
  readonly killGraceMs?: number;
  /** The stall watchdog: no progress (see stall.ts) for `ms` stops the child's process group. */
  readonly stall?: { readonly ms: number; readonly progress?: ParseProgress };
  /**
   * Open fds the child gets as 3, 4, … (a held ssh session's pipes, exec/held.ts): set blocking first
   * (libuv made them non-blocking, and a `cat` reading them would fail with EAGAIN), then `spawned`
   * runs in the same tick as the spawn, before this process could read any of them again.
   */
  readonly handOver?: { readonly fds: readonly number[]; readonly spawned: () => void };
  /**
   * Read stdout every this many ms rather than at each write (a transfer's progress): rsync writes a
   * progress line and an itemize line per file, each its own write, and a pipe read per write cost a
   * first push of 10k files ~0.25 s of this thread. stdout then goes to an unlinked temporary file.
   */
  readonly stdoutEveryMs?: number;
}

/** Process groups of the children now running, so a second Ctrl-C can kill them all at once. */
const liveGroups = new Set<number>();

/** A child started elsewhere in exec/ (held.ts) is stopped with the rest on a second Ctrl-C. */
export const trackGroup = (pid: number): void => void liveGroups.add(pid);
export const untrackGroup = (pid: number): void => void liveGroups.delete(pid);

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGKILL every running child's process group (the second Ctrl-C). */
export function killAllChildren(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
}

export function childEnv(command: Command): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...command.env };
  for (const name of command.unsetEnv ?? []) delete env[name];
  return env;
}

export async function run(command: Command, options: RunOptions): Promise<ToolOutput> {
  const started = Date.now();
  // Secrets the command itself carries (RCLONE_CONFIG_*_SECRET_ACCESS_KEY) are hidden in its output too.
  const own = command.env ? makeRedactor(command.env) : undefined;
  const redact: Redactor = own ? (text) => own(options.redact(text)) : options.redact;
  let timedOut = false;
  let aborted = false;
  const handOver = options.handOver;
  // libuv clears O_NONBLOCK only on a child's fds 0-2: a throwaway child given them as 0 and 1 does
  // it for the open file descriptions they share with the real child's 3 and 4 (two fds: startChild
  // hands them in as 0 and 1 itself).
  if (handOver && handOver.fds.length !== 2) spawn('true', [], { stdio: [handOver.fds[0] ?? 'ignore', handOver.fds[1] ?? 'ignore', 'ignore'] }).on('error', () => undefined);
  // Its own process group: a terminal's Ctrl-C reaches labsync only, and labsync stops the
  // whole group (rsync and its ssh, git and its helpers) on the way out.
  const lumped = options.stdoutEveryMs && !command.binaryStdout ? outputFile() : undefined;
  const child = startChild(programOf(command.tool), command.args, { cwd: command.cwd, env: childEnv(command), ...(command.input === undefined ? {} : { input: command.input }), ...(handOver ? { fds: handOver.fds } : {}), ...(lumped ? { stdoutFd: lumped.fd } : {}) });
  handOver?.spawned();
  mark(`spawned ${command.tool}`);
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);

  const stop = (): void => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    const force = setTimeout(() => killGroup(pid, 'SIGKILL'), options.killGraceMs ?? 5000);
    force.unref();
  };
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs)
    : undefined;
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const watch = options.stall ? new StallWatch(options.stall.ms, options.stall.progress, Date.now()) : undefined;
  let stalled = false;
  const onLine = options.onLine;
  const lines = (stream: 'stdout' | 'stderr'): ((chunk: Buffer) => void) => {
    let rest = '';
    return (chunk) => {
      const parts = (rest + chunk.toString('utf8')).split(/[\r\n]/);
      rest = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        const shown = redact(line);
        // What the tool says while being stopped ("received SIGTERM") is not why it stalled.
        if (!stalled) watch?.line(shown, Date.now());
        onLine?.(shown, stream);
      }
    };
  };
  const onStdout = onLine || watch ? lines('stdout') : undefined;
  if (onStdout) child.stdout?.on('data', onStdout);
  if (onLine || watch) child.stderr?.on('data', lines('stderr'));
  const drain = lumped && child.pid !== undefined ? setInterval(() => lumped.take(onStdout), options.stdoutEveryMs) : undefined;
  let reads = watch && pid !== undefined ? groupReads(pid) : undefined;
  const poll = watch && options.stall && pid !== undefined
    ? setInterval(() => {
        const now = Date.now();
        if (reads && watch.watchesReads) {
          const next = groupReads(pid);
          if (next) watch.read(readSince(reads, next), now);
          reads = next;
        }
        if (!stalled && watch.stalled(now)) {
          stalled = true;
          stop();
        }
      }, Math.min(1000, Math.max(50, options.stall.ms / 4)))
    : undefined;

  const done = await child.done;
  if (drain) clearInterval(drain);
  const result = lumped ? { ...done, stdout: lumped.close(onStdout) } : done;
  if (timer) clearTimeout(timer);
  if (poll) clearInterval(poll);
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) liveGroups.delete(pid);

  const spawnError = result.exitCode === undefined && !result.signal ? result.code : undefined;
  const bytes = command.binaryStdout ? result.stdout : undefined;
  return {
    exitCode: result.exitCode ?? (spawnError === 'ENOENT' ? 127 : 128 + signalNumber(result.signal)),
    stdout: bytes ? '' : redact(result.stdout.toString('utf8')),
    ...(bytes ? { bytes } : {}),
    stderr: redact(result.stderr.toString('utf8')),
    durationMs: Date.now() - started,
    ...(result.signal ? { signal: result.signal } : {}),
    timedOut,
    ...(stalled && watch ? { stalled: { ms: watch.ms, ...(watch.lastLine ? { lastLine: watch.lastLine } : {}) } } : {}),
    aborted,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** An unlinked temporary file for a child's stdout, read in pieces as it grows; undefined where none can be made (a pipe then). */
function outputFile(): { fd: number; take: (onChunk?: (b: Buffer) => void) => void; close: (onChunk?: (b: Buffer) => void) => Buffer } | undefined {
  let fd: number;
  try {
    const path = join(tmpdir(), `labsync-${process.pid}-${randomBytes(6).toString('hex')}.out`);
    fd = openSync(path, 'w+', 0o600);
    unlinkSync(path);
  } catch {
    return undefined;
  }
  const pieces: Buffer[] = [];
  const scratch = Buffer.allocUnsafe(64 * 1024);
  let at = 0;
  const take = (onChunk?: (b: Buffer) => void): void => {
    for (;;) {
      const n = readSync(fd, scratch, 0, scratch.length, at);
      if (n <= 0) return;
      at += n;
      const got = Buffer.from(scratch.subarray(0, n)); // a copy of what came: the scratch is read into again
      pieces.push(got);
      onChunk?.(got);
    }
  };
  return { fd, take, close: (onChunk) => (take(onChunk), closeSync(fd), Buffer.concat(pieces)) };
}

function signalNumber(signal: string | undefined): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signal ? (table[signal] ?? 0) : 0;
}

/**
 * A local helper's whole stdout as bytes (find's NUL-separated listing), unredacted: labsync reads a
 * local tree with it, and redacting every name would cost more than the listing.
 * Started before this returns, and its stdout goes to an unlinked temporary file rather than a pipe:
 * a pipe fills while this thread is busy (loading a cache meanwhile), and the child would wait.
 * It stays in labsync's process group, so a terminal's Ctrl-C stops it with labsync. LC_ALL=C keeps
 * its messages in English for the caller to read. Never throws for an exit code.
 */
export function readOutput(argv: readonly [string, ...string[]], cwd: string): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
  const path = join(tmpdir(), `labsync-${process.pid}-${randomBytes(6).toString('hex')}.out`);
  const fd = openSync(path, 'w+', 0o600);
  unlinkSync(path);
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', fd, 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    let settled = false;
    const done = (exitCode: number): void => {
      if (settled) return;
      settled = true;
      const stdout = Buffer.allocUnsafe(fstatSync(fd).size);
      for (let at = 0, n = 1; at < stdout.length && n > 0; at += n) n = readSync(fd, stdout, at, stdout.length - at, at);
      closeSync(fd);
      resolve({ exitCode, stdout, stderr });
    };
    child.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ENOENT' ? 127 : 126));
    child.on('close', (code, signal) => done(code ?? 128 + signalNumber(signal ?? undefined)));
  });
}
