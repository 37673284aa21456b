// ssh sessions started before the CLI loads. A run over ssh waits mostly for its host's login (key
// exchange, the login shell's rc files): bin/labsync.js starts the sessions the same command line
// opened last time (a hint in the user's cache folder, kept per command line, folder and environment,
// and only while the manifest is byte for byte the same; a command line's first run takes the one any
// run in that folder and environment wrote last) while node compiles and loads the CLI. Such
// a session only logs in and waits for its go line (adapters/rsync/held.ts); it is used where the
// engine would start exactly that command (same program, arguments and folder, no environment of its
// own), after the lock and the hooks, as it would have been started there. Any session not used by
// the end of the run (the lock was held, the manifest changed, the run stopped early) is killed:
// its host reads end of file where it waited and exits. LABSYNC_EARLY_SSH=0 turns this off.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from '../adapters/types.js';
import { trustedFolder } from '../state/trusted-folder.js';
import { makeRedactor } from './redact.js';

export type Ended = { code: number; signal: NodeJS.Signals | null };

/** What bin/labsync.js started: the child with its stderr collected and its end noted from the start. */
export interface EarlyChild {
  readonly program: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly errs: Buffer[];
  readonly ended: Promise<Ended>;
}

/** A session as the hint keeps it: what to start. */
export interface HintSession { readonly program: string; readonly args: readonly string[]; readonly cwd: string }

/** The hint file: the sessions this command line opened, and the manifest they were read from. */
export interface Hint { readonly manifest?: string; readonly manifestDigest?: string; readonly sessions: readonly HintSession[] }

/**
 * From bin/labsync.js: where this command line's hint lives, the hint it read, the sessions it started.
 * `sharedFile`: the hint any run in this folder and environment writes; `shared`: the one read from it
 * when this command line had none of its own yet (its sessions are what `early` holds then).
 */
export interface Start { readonly hintFile?: string; readonly hint?: Hint; readonly sharedFile?: string; readonly shared?: Hint; readonly early: EarlyChild[] }

let start: Start | undefined;
const opened: HintSession[] = [];
let manifestFile: string | undefined;

/** At most this many sessions are started early (a manifest of many ssh pairs runs them two at a time). */
export const MAX_EARLY = 4;

export function setStart(s: Start | undefined): void {
  start = s;
}

export const digestOf = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** The manifest this run read (the hint is trusted only while it is unchanged). */
export function noteManifest(file: string): void {
  manifestFile = file;
}

const sameSession = (a: HintSession, b: HintSession): boolean => a.program === b.program && a.cwd === b.cwd && a.args.length === b.args.length && a.args.every((w, i) => w === b.args[i]);

/**
 * The session started early for exactly this command, taken (undefined: none, start it now). A
 * command with an environment of its own never matches: the early one has labsync's environment.
 * Either way the command is noted for the next run's hint.
 */
export function takeEarly(program: string, command: Command): EarlyChild | undefined {
  if (command.env || command.unsetEnv?.length) return undefined;
  const wanted: HintSession = { program, args: command.args, cwd: command.cwd };
  // Once each: a watch runs a pair many times in one process, and the next start needs it once.
  if (!opened.some((o) => sameSession(o, wanted))) opened.push(wanted);
  const list = start?.early;
  const at = list ? list.findIndex((e) => sameSession(e, wanted)) : -1;
  if (!list || at < 0) return undefined;
  const [taken] = list.splice(at, 1);
  return taken;
}

/** Kills every early session nobody took (its host reads end of file and exits). */
export function killUnused(): void {
  for (const e of start?.early.splice(0) ?? []) {
    try {
      if (e.child.pid !== undefined) process.kill(-e.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** At the end of the run: unused sessions killed, and the hint rewritten when this run opened other sessions. */
export function endEarly(): void {
  killUnused();
  const file = start?.hintFile;
  if (!file) return;
  const before = start?.hint;
  let manifestDigest: string | undefined;
  try {
    manifestDigest = manifestFile ? digestOf(readFileSync(manifestFile)) : undefined;
  } catch {
    manifestDigest = undefined;
  }
  const same = before && before.manifest === manifestFile && before.manifestDigest === manifestDigest && before.sessions.length === opened.length && before.sessions.every((s, i) => sameSession(s, opened[i] as HintSession));
  // A run that opened none (its lock was held, it stopped early) leaves the hint as it was: a stale
  // one is never used once the manifest changed, and a wrong one only costs a login that is killed.
  if (same) return void keepFresh(file);
  // A first run that opened none after trying the shared hint writes an empty hint of its own, so a
  // command line that opens no session (or another one) does not start the shared guess every time.
  if (!opened.length && !start?.shared) return;
  const hint: Hint = { ...(manifestFile && manifestDigest ? { manifest: manifestFile, manifestDigest } : {}), sessions: opened.slice(0, MAX_EARLY) };
  writeHint(file, hint);
  // What any other command line's first run in this folder and environment starts (bin/labsync.js).
  if (opened.length && start?.sharedFile) writeHint(start.sharedFile, hint);
  start = { ...start, hint, early: [] };
}

/**
 * Whether a session's words that came from the manifest (ssh's options and the target, before and just
 * after `--`) hold a secret. Not labsync's own words: its socket path or the script it runs there would
 * match a short secret value such as GCM_CREDENTIAL_STORE=cache (".cache/labsync/ssh"), refusing every hint.
 */
function holdsSecret(hint: Hint): boolean {
  const redact = makeRedactor(process.env);
  return hint.sessions.some((s) => {
    const end = s.args.indexOf('--');
    const words = (end < 0 ? s.args : s.args.slice(0, end + 2)).filter((w) => !/^Control(Path|Master|Persist)=/i.test(w));
    return words.some((w) => redact(w) !== w);
  });
}

function writeHint(file: string, hint: Hint): void {
  // A hint holding a secret (an ssh option made from a secret-named variable, a URL's password) is not
  // kept: no file of labsync's holds one (the manifest cache refuses the same).
  if (holdsSecret(hint)) return;
  const text = JSON.stringify(hint);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // bin/labsync.js starts what a hint names: never one in a folder another user could write in.
    if (!trustedFolder(dirname(file))) return;
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    // 'wx': never through a name someone placed there first.
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
    pruneHints(dirname(file));
  } catch {
    // a read-only cache folder: every run starts its sessions when it gets to them, as without hints
  }
}

const DAY_MS = 24 * 3600 * 1000;

/** A hint in use is touched once a day, so pruneHints keeps it. */
function keepFresh(file: string): void {
  try {
    if (statSync(file).mtimeMs < Date.now() - DAY_MS) utimesSync(file, new Date(), new Date());
  } catch {
    // gone or read-only: it is written again by the next run that opens a session
  }
}

/** Hints unused for a month go (each command line, folder and environment has its own file, and each folder and environment a shared one). */
function pruneHints(folder: string): void {
  const monthAgo = Date.now() - 30 * DAY_MS;
  for (const name of readdirSync(folder)) {
    // A temporary file a killed run left (each run's has a name of its own) goes after a day.
    const tmp = name.endsWith('.tmp');
    if (!name.startsWith('session-') || !(tmp || name.endsWith('.json'))) continue;
    try {
      if (statSync(join(folder, name)).mtimeMs < (tmp ? Date.now() - DAY_MS : monthAgo)) unlinkSync(join(folder, name));
    } catch {
      // another run pruned it first
    }
  }
}
