// The ONLY place labsync starts a process (with held.ts, the ssh session a push keeps open). Tool
// failures come back as values (ToolOutput).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, ToolOutput } from '../adapters/types.js';
import { programOf } from './program.js';
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
  // Loaded at the first child process: commands that start none (a local check) never pay for it.
  const { execa } = await import('execa');
  const started = Date.now();
  // Secrets the command itself carries (RCLONE_CONFIG_*_SECRET_ACCESS_KEY) are hidden in its output too.
  const own = command.env ? makeRedactor(command.env) : undefined;
  const redact: Redactor = own ? (text) => own(options.redact(text)) : options.redact;
  let timedOut = false;
  let aborted = false;
  const handOver = options.handOver;
  // libuv clears O_NONBLOCK only on a child's fds 0-2: a throwaway child given them as 0 and 1 does
  // it for the open file descriptions they share with the real child's 3 and 4.
  if (handOver) spawn('true', [], { stdio: [handOver.fds[0] ?? 'ignore', handOver.fds[1] ?? 'ignore', 'ignore'] }).on('error', () => undefined);
  const child = execa(programOf(command.tool), command.args, {
    cwd: command.cwd,
    env: childEnv(command),
    extendEnv: false,
    reject: false,
    ...(command.input === undefined ? (handOver ? {} : { stdin: 'ignore' as const }) : { input: command.input }),
    // Its own process group: a terminal's Ctrl-C reaches labsync only, and labsync stops the
    // whole group (rsync and its ssh, git and its helpers) on the way out.
    detached: true,
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
    ...(command.binaryStdout ? { encoding: 'buffer' as const } : {}),
    // execa takes a stdio array or stdin, not both; an fd as a number goes to the child as it is
    // (node's spawn dups it), which execa's types leave out for fds past 2.
    ...(handOver ? { stdio: [command.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...handOver.fds] as unknown as ['pipe', 'pipe', 'pipe'] } : {}),
  });
  handOver?.spawned();
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
  if (onLine || watch) {
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      child[stream]?.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString('utf8')).split(/[\r\n]/);
        rest = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.trim()) continue;
          const shown = redact(line);
          // What the tool says while being stopped ("received SIGTERM") is not why it stalled.
          if (!stalled) watch?.line(shown, Date.now());
          onLine?.(shown, stream);
        }
      });
    }
  }
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

  const result = await child;
  if (timer) clearTimeout(timer);
  if (poll) clearInterval(poll);
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) liveGroups.delete(pid);

  const spawnCode = (result as { code?: string }).code;
  const spawnError = result.failed && result.exitCode === undefined && !result.signal && spawnCode ? spawnCode : undefined;
  const text = (out: unknown): string => (out instanceof Uint8Array ? Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('utf8') : String(out ?? ''));
  const bytes = command.binaryStdout && result.stdout instanceof Uint8Array ? Buffer.from(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength) : undefined;
  return {
    exitCode: result.exitCode ?? (spawnError === 'ENOENT' ? 127 : 128 + signalNumber(result.signal)),
    stdout: bytes ? '' : redact(text(result.stdout)),
    ...(bytes ? { bytes } : {}),
    stderr: redact(text(result.stderr)),
    durationMs: Date.now() - started,
    ...(result.signal ? { signal: result.signal } : {}),
    timedOut,
    ...(stalled && watch ? { stalled: { ms: watch.ms, ...(watch.lastLine ? { lastLine: watch.lastLine } : {}) } } : {}),
    aborted,
    ...(spawnError ? { spawnError } : {}),
  };
}

function signalNumber(signal: string | undefined): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signal ? (table[signal] ?? 0) : 0;
}

/**
 * A local helper's whole stdout as bytes (find's NUL-separated listing), with node's own spawn: for a
 * command labsync runs to read a local tree, loading execa would cost more than the listing itself.
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
