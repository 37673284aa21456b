// Pure: one ssh session for a push's listing, its transfer and the listing after it. The host lists
// (as listScript does), prints a marker carrying a token of this run, then waits for one line: the
// remote command rsync would have given ssh. rsync runs with `-e` a relay (a small sh script here)
// that sends that line and then moves rsync's bytes through the session's open pipes; after rsync
// --server ends, the host closes its stdout (the relay's end of file) and lists again on stderr, or
// answers only what the engine asked ahead of that line about the paths it touched (held-after.ts).
// Each session costs this testbed's host ~0.12 s CPU (the login shell's rc file) and the client a
// login: see README "Speed" (one ssh session per run).
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { AfterAnswers, AfterQuestions, HeldList } from '../types.js';
import { HOST_PROBE, listScript, parseRemoteListing } from './remote.js';
import { rshQuote, shQuote, sshScript } from './ssh.js';
import { answerScript, parseAnswers, STASH, touchLines } from './held-after.js';

type SshEndpoint = Extract<Endpoint, { type: 'ssh' }>;

/** The fds the transfer's rsync gets the session on (its relay inherits them): the session's stdout, its stdin. */
export const RELAY_FDS = [3, 4] as const;

/** The host name rsync is given: it only reaches the relay, which ignores it. */
const RELAY_HOST = 'labsync-held';

/** The line that asks a held session for its listing after a transfer that went another way. */
export const LIST_AGAIN = 'labsync-list\n';

/** What ends the first listing on stdout (the token keeps a file name from forging it). */
export const listedMark = (token: string): Buffer => Buffer.from(`\0labsync-held ${token}\n`);

/**
 * The same, from a host that can take the questions of the listing after (held-after.ts): its find has
 * -files0-from, it has mktemp, and its head is GNU's, whose -c reads a pipe exactly (BSD's reads ahead
 * through stdio and would swallow the transfer's line that follows; without head the lists could not be
 * read at all). Any other host is asked nothing and lists whole after the transfer, as before.
 */
export const touchMark = (token: string): Buffer => Buffer.from(`\0labsync-held ${token} touch\n`);

/** What starts the listing after the transfer on stderr: `labsync-after <token> <rsync's exit code>`. */
export const afterMark = (token: string): RegExp => new RegExp(`(?:^|\\n)labsync-after ${token} (\\d+)( patch)?\\n`);

/** Whether a folder can ride a held session: the line the host reads is one line. */
export const holdable = (remote: SshEndpoint): boolean => !/[\n\r]/.test(remote.path);

/** The first line a held session's host reads: the run's token and how many bytes of NUL-separated paths to hash follow it. */
export const goLine = (token: string, hashBytes: number): string => `labsync-go ${token} ${hashBytes}\n`;

/**
 * The host's side. It first waits for the go line (goLine): the session can be opened before the
 * run holds its lock (bin/labsync.js starts it while the CLI loads), and lists only once told to.
 * The token and the length of the paths to hash come in that line, so the script (and ssh's argv)
 * is the same for every run of a pair. The paths are read with GNU head -c, exact on a pipe (a host
 * with sha256sum -z has it); the relay's line comes after them (and after the questions of the
 * listing after it, held-after.ts). A line that is not the relay's ends the session (the engine then
 * uses its own path). Everything after the marker goes to stderr,
 * which labsync still reads.
 */
export function heldScript(path: string, excludes: readonly string[]): string {
  return [
    // What find and sha256sum can do, asked while the run has not yet said go (it changes nothing there).
    HOST_PROBE,
    'IFS= read -r lsgo || exit 0',
    // Split by hand: the token is hex and the length digits, anything else ends the session.
    "case $lsgo in 'labsync-go '*) ;; *) exit 0 ;; esac",
    'lsgo=${lsgo#labsync-go }; lst=${lsgo%% *}; lsn=${lsgo#* }',
    "case $lst in ''|*[!0-9a-f]*) exit 0 ;; esac",
    "case $lsn in ''|*[!0-9]*) exit 0 ;; esac",
    // No head -c: the paths could not be taken off stdin before the line; the session ends unused.
    `if [ "$lsn" -gt 0 ]; then head -c 0 </dev/null >/dev/null 2>&1 || exit 0; head -c "$lsn" | ( ${listScript(path, excludes, true, true)} ); else ( ${listScript(path, excludes, false, true)} ) </dev/null; fi`,
    // Whether this host can take the questions of the listing after (touchMark): asked once the listing is out.
    "lsp=; lsh=; if [ \"$lsf\" = 2 ] && command -v mktemp >/dev/null 2>&1; then case $(head --version 2>/dev/null) in *GNU*) lsh=' touch' ;; esac; fi",
    `printf '\\0labsync-held %s%s\\n' "$lst" "$lsh"`,
    'IFS= read -r line || exit 0',
    // The questions of the patch of the listing after, before the transfer's line (held-after.ts).
    STASH,
    // `labsync-list`: the transfer went over a login of its own (a large one); only list again here.
    `case $line in 'labsync-run '*) eval "\${line#labsync-run }" 6<&- 7<&- 8<&-; rc=$? ;; labsync-list) rc=0 ;; *) exit 0 ;; esac`,
    // The session's stdout ends here (this shell's copy goes; /dev/null, as some shells fail a
    // redirection of a closed fd 1): rsync sees the end of its stream, the relay exits.
    'exec >/dev/null',
    `printf 'labsync-after %s %s%s\\n' "$lst" "$rc" "\${lsp:+ patch}" >&2`,
    // A failed rsync's listing would not be used (the transfer is retried its usual way): end now.
    '[ "$rc" = 0 ] || exit "$rc"',
    // The folder gone meanwhile: no answers (exit 1, the engine lists its usual way).
    `if [ -n "$lsp" ]; then ( cd -- ${shQuote(path)} 2>/dev/null || exit 1; ${answerScript(excludes)} ) >&2; else ( ${listScript(path, excludes, false, true)} ) </dev/null >&2; fi`,
  ].join('\n');
}

/** The host's listing as a held session gives it (files.list with `hold`); `ask`: paths to hash after the listing. */
export function heldList(pair: ResolvedPair, remote: SshEndpoint, excludes: readonly string[], token: string, ask: readonly string[]): HeldList {
  const paths = ask.map((p) => `${p}\0`).join('');
  return {
    // The script is the same every run; what this run asks comes on standard input.
    command: sshScript(pair, remote, heldScript(remote.path, excludes), `list ${pair.remoteLabel}`, goLine(token, Buffer.byteLength(paths)) + paths, true),
    mark: listedMark(token),
    markTouch: touchMark(token),
    parse: (listed) => parseRemoteListing(listed, excludes),
    again: LIST_AGAIN,
    after: (stderr) => {
      const m = afterMark(token).exec(stderr.toString('latin1'));
      // rsync failed: its listing would not be used (the transfer is retried its usual way).
      if (!m || m[1] !== '0' || m[2]) return undefined;
      return parseRemoteListing(stderr.subarray(m.index + m[0].length), excludes);
    },
    touch: touchLines,
    answers: (stderr, q) => answersAfter(stderr, token, q),
  };
}

/** The host's answers to `q` after rsync --server exited 0 (held-after.ts); 'whole': it listed whole instead; undefined: neither. */
export function answersAfter(stderr: Buffer, token: string, q: AfterQuestions): AfterAnswers | 'whole' | undefined {
  const m = afterMark(token).exec(stderr.toString('latin1'));
  if (!m || m[1] !== '0') return undefined;
  return m[2] ? parseAnswers(stderr.subarray(m.index + m[0].length), q) : 'whole';
}

/**
 * rsync's `-e`: a relay run as `sh -c SCRIPT relay HOST CMD…`. It sends the remote command, joined as
 * ssh joins it, as one line; then copies rsync's stdin to the session (fd 4) and the session (fd 3) to
 * rsync, until the host closes its stdout. A command with a newline is refused (rsync then fails and
 * the engine sends the files its usual way).
 *
 * The copying runs in the background and the process rsync started exits at once (status 0, the
 * status the relay always gave): rsync waits for its `-e` child only after the protocol's last
 * goodbye, polling every 20 ms, and the host's stdout ends only with the session when it runs over
 * a kept connection (the ssh client holds it open until its session's end, after the host's listing).
 * rsync ignores a `-e` child that exits early (its SIGCHLD handler only keeps the status), and talks
 * to the copies through the same pipes. The copies hold no pipe of labsync's (stderr goes to
 * /dev/null): labsync sees rsync's end when rsync ends. They end with the session (whose end labsync
 * waits for, or forces on a failure) and are in rsync's process group, which labsync stops on a timeout.
 */
export function relayRsh(): string {
  const [sessionOut, sessionIn] = RELAY_FDS;
  const script = [
    'shift',
    `case "$*" in *'\n'*) echo 'labsync: the remote command holds a newline' >&2; exit 1 ;; esac`,
    `printf 'labsync-run %s\\n' "$*" >&${sessionIn} || exit 1`,
    // An asynchronous list's stdin is /dev/null unless redirected: rsync's stream is kept on fd 5.
    'exec 5<&0',
    // The host's side ends when the session's stdout does; rsync's side when rsync closes its end (or,
    // rsync gone first, at its next write): neither needs the other stopped.
    `( cat <&5 >&${sessionIn} & exec cat <&${sessionOut} ) </dev/null 2>/dev/null & exit 0`,
  ].join('; ');
  return ['sh', '-c', script, 'labsync-relay'].map(rshQuote).join(' ');
}

/**
 * A transfer's rsync argv made to ride the held session: `-e` the relay, the remote end named by a
 * host the relay ignores (no user: rsync would pass `-l user`). undefined: not an argv of the shape
 * labsync builds (argv.ts), so it runs its own way.
 */
export function relayArgv(args: readonly string[], remote: SshEndpoint): string[] | undefined {
  const e = args.indexOf('-e');
  const dashes = args.indexOf('--');
  if (e < 0 || dashes < e) return undefined;
  const prefix = `${remote.user ? `${remote.user}@` : ''}${remote.host}:`;
  const ends = args.slice(dashes + 1);
  if (ends.filter((a) => a.startsWith(prefix)).length !== 1) return undefined;
  return [...args.slice(0, e), '-e', relayRsh(), ...args.slice(e + 2, dashes + 1), ...ends.map((a) => (a.startsWith(prefix) ? `${RELAY_HOST}:${a.slice(prefix.length)}` : a))];
}
