// Pure: listing and hashing a folder on an ssh host through one ssh connection each, with nothing
// installed there: GNU find -printf lists (the same format the local walker reads, find-list.ts), and
// GNU stat + sha256sum hash the paths read from standard input. A host without them answers with a
// marker line, and the engine falls back to rsync's own dry run and checksum comparison.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Endpoint, ResolvedPair } from '../../types.js';
import { countLinks, findArgv, numberAt, parseFindListing } from '../../verify/find-list.js';
import type { Command, RemoteHashes, RemoteListing } from '../types.js';
import { shQuote, sshScript, sshTarget } from './ssh.js';

type SshEndpoint = Extract<Endpoint, { type: 'ssh' }>;

/** What a host said before its records: `labsync <kind> <host clock, seconds.nanoseconds> [<the folder's file system type>]`. */
const HEADER = /^labsync (list|hash|nodir|nofind|nosum) ?(\S*) ?(\S*)\n/;

export type { RemoteHashes, RemoteListing, RemoteTree } from '../types.js';

const enter = (path: string): string => `cd -- ${shQuote(path)} 2>/dev/null || { echo 'labsync nodir'; exit 0; }`;
/**
 * Sets $lsc to the host's clock: bash's $EPOCHREALTIME where it is there and written with a point (its
 * decimal mark follows the locale), which spares starting `date` on the listing's critical path; else date.
 */
const clock = "lsc=${EPOCHREALTIME:-}; case $lsc in ''|*[!0-9.]*) lsc=$(date +%s.%N 2>/dev/null || date +%s) ;; esac";

/**
 * The whole tree's files with stat keys, excludes pruned as the local walker prunes them; a symlink
 * is marked in the same walk (find-list.ts), and a listing holding any is left to rsync's own. With
 * `thenHash`, the same connection then hashes the paths on standard input (after a `labsync-end`
 * record): the listing after a transfer and the hashes of the files it wrote, in one round trip.
 * `probed`: the script has already asked whether find is GNU find, and set $lsf if so (held.ts asks
 * before its go line, off the run's critical path).
 */
export function listScript(path: string, excludes: readonly string[], thenHash = false, probed = false): string {
  const find = findArgv(excludes, { links: true }).map((w, i) => (i === 0 ? w : shQuote(w))).join(' ');
  if (thenHash) return [listScript(path, excludes, false, probed), "printf 'labsync-end\\0'", hashPart(probed)].join('; ');
  return [
    // -printf is GNU find's: a BSD or busybox find fails this probe and labsync uses rsync's listing.
    // Asked first, so a folder not made yet does not hide it until the next run.
    probed ? `[ -n "$lsf" ] || { echo 'labsync nofind'; exit 0; }` : `${FIND_PROBE} || { echo 'labsync nofind'; exit 0; }`,
    enter(path),
    clock,
    FS_TYPE,
    'echo "labsync list $lsc $lsfs"',
    // A find that could not read everything (a folder it may not enter, an I/O error) printed what it
    // could: a record says so after them, as its exit code does, wherever the listing is read (held.ts
    // reads it from a subshell, and the hash part follows it), and parseRemoteListing refuses it.
    `${find}; lsr=$?; [ "$lsr" = 0 ] || { printf '${FAILED} %s\\0' "$lsr"; exit "$lsr"; }`,
  ].join('; ');
}

/** awk over /proc/self/mountinfo: `+type` for each mount strictly inside $lsd (every one but the root's when it is `/`); a FUSE type with an odd name is `+fuse` (review 55: dropped, it had been trusted). One line: a held session's script is read line by line. */
export const INNER_MOUNTS = [
  'BEGIN { d = ENVIRON["lsd"]; if (d != "/") d = d "/" }',
  '{ p = $5; gsub(/\\\\040/, " ", p); gsub(/\\\\011/, "\\t", p); gsub(/\\\\012/, "\\n", p); gsub(/\\\\134/, "\\\\", p);',
  'if (p != d && index(p, d) == 1) { for (i = 7; i <= NF && $i != "-"; i++); t = $(i + 1); if (t !~ /[^A-Za-z0-9._\\/-]/) printf "+%s", t; else if (t ~ /^fuse/) printf "+fuse" } }',
].join(' ');

/**
 * Sets $lsfs to the folder's file system as `name@magic`: the name findmnt gives (`fuse.sshfs`; the last
 * of mounts stacked on one point: review 52), the magic number statfs gives in hex (`stat -f -c %t`, GNU
 * and busybox alike; `65735546` for any FUSE), either part possibly empty. Where change times prove
 * nothing (FUSE over a remote, FAT), the host's hashes are not remembered (review 50; mount-types.ts
 * unkeptHostType). The magic is what the folder shows, whatever order findmnt printed stacked mounts in,
 * and a stat that is not GNU's or busybox's prints no hex (BSD's read `-c` as its format; review 53: its
 * `-c`, or `UNKNOWN` for a name, had passed for a type, and the host was trusted). Anything else is dropped.
 * Then `+name` for each mount inside the folder, by its type's name, read from the kernel's own mount
 * table with awk (review 53: a FUSE mount inside the host's folder had gone unseen; review 54: findmnt
 * writes a space or a non-ASCII byte of a path as `\\xNN`, which never matched the folder's own path,
 * busybox hosts have no findmnt, and a shell loop read its lines a byte per read(2): 0.28 s at 5,000
 * mounts). mountinfo escapes only space, tab, newline and backslash, as octal; the folder goes to awk
 * through its environment (`-v` would undo backslashes).
 */
const FS_TYPE = [
  'lsfs=$(findmnt -no FSTYPE -T . 2>/dev/null | tail -n 1); case $lsfs in *[!A-Za-z0-9._/-]*) lsfs= ;; esac',
  'lsm=$(stat -f -c %t . 2>/dev/null); case $lsm in *[!0-9a-f]*) lsm= ;; esac; [ -z "$lsm" ] || lsfs="$lsfs@$lsm"',
  `lsfs="$lsfs$(lsd=$(pwd -P) awk ${shQuote(INNER_MOUNTS)} /proc/self/mountinfo 2>/dev/null)"`,
].join('; ');

/** The record a listing ends with when find failed; find's own start with a digit or "l". */
const FAILED = '!labsync-find-failed';

/** Succeeds where find is GNU find (it has -printf). */
export const FIND_PROBE = "find / -maxdepth 0 -printf '' >/dev/null 2>&1";

/**
 * What a held session asks once, before its go line (off the run's critical path): $lsf is 2 where
 * find also reads its starting points from standard input (-files0-from, findutils 4.9), 1 where it
 * is GNU find without that. One find on a current GNU host, as FIND_PROBE alone was; an older find is
 * asked twice.
 */
export const HOST_PROBE = `if find -files0-from /dev/null -maxdepth 0 -printf '' >/dev/null 2>&1; then lsf=2; elif ${FIND_PROBE}; then lsf=1; fi`;

/**
 * A stat record as find prints it, in the shape stat's is read (parseRemoteHashes): `8000` is a
 * regular file's type in hex (only those are printed), the times as the listing's own %T@.
 */
const FIND_STAT = "8000 %s %T@ %C@ %i %p\\0";

/** Stat then sha256 of every NUL-separated path on standard input; a path gone meanwhile is left out. */
export function hashScript(path: string): string {
  return [enter(path), hashPart()].join('; ');
}

/**
 * `probed` (HOST_PROBE asked already): where find reads its paths from standard input, one sha256sum
 * probe, then that one find prints the stat records and runs sha256sum on them (3 processes; find
 * flushes its output before it runs one, so the records never interleave); elsewhere two probes,
 * xargs, sh, stat and sha256sum as before (6, and the probe's pipe).
 */
function hashPart(probed = false): string {
  const each = `stat --printf '%f %s %.9Y %.9Z %i %n\\0' -- "$@" 2>/dev/null; sha256sum -z -- "$@" 2>/dev/null; exit 0`;
  const viaXargs = [
    "{ printf '' | sha256sum -z >/dev/null 2>&1 && stat --printf '%.9Y' . >/dev/null 2>&1; } || { echo 'labsync nosum'; exit 0; }",
    clock,
    'echo "labsync hash $lsc"',
    `exec xargs -0 -r sh -c ${shQuote(each)} sh`,
  ].join('; ');
  if (!probed) return viaXargs;
  const viaFind = [
    // Asked here, not before the go line: only a run with racy files to hash pays for it.
    "sha256sum -z </dev/null >/dev/null 2>&1 || { echo 'labsync nosum'; exit 0; }",
    clock,
    'echo "labsync hash $lsc"',
    // A path gone meanwhile is left out (find says so on stderr, discarded); only regular files, never followed.
    `exec find -files0-from - -maxdepth 0 -type f -printf '${FIND_STAT}' -exec sha256sum -z -- {} + 2>/dev/null`,
  ].join('; ');
  return `if [ "$lsf" = 2 ]; then ${viaFind}; else ${viaXargs}; fi`;
}

export function listCommand(pair: ResolvedPair, remote: SshEndpoint, excludes: readonly string[], hash?: readonly string[]): Command {
  if (!hash?.length) return sshScript(pair, remote, listScript(remote.path, excludes), `list ${pair.remoteLabel}`, undefined, true);
  return sshScript(pair, remote, listScript(remote.path, excludes, true), `list ${pair.remoteLabel} and hash ${hash.length} file${hash.length === 1 ? '' : 's'}`, hash.map((p) => `${p}\0`).join(''), true);
}

export function hashCommand(pair: ResolvedPair, remote: SshEndpoint, paths: readonly string[]): Command {
  return sshScript(pair, remote, hashScript(remote.path), `hash ${paths.length} file${paths.length === 1 ? '' : 's'} on ${pair.remoteLabel}`, paths.map((p) => `${p}\0`).join(''), true);
}

// Read exactly as find's %T@ is read locally, so a key from stat and one from find compare equal.
const secondsToMs = (s: string): number => numberAt(s, 0, s.length);

function header(stdout: Buffer): { kind: string; nowMs: number; fsType?: string; rest: Buffer } {
  const nl = stdout.indexOf(10);
  const line = stdout.subarray(0, nl + 1).toString('utf8');
  const m = HEADER.exec(line);
  if (!m) throw new Error(`unexpected answer from the host: ${JSON.stringify(stdout.subarray(0, 80).toString('utf8'))}`);
  return { kind: m[1] as string, nowMs: m[2] ? secondsToMs(m[2]) : 0, ...(m[3] ? { fsType: m[3] } : {}), rest: stdout.subarray(nl + 1) };
}

const END = Buffer.from('labsync-end\0');

/** The list script's answer. Excludes are applied again by labsync's own matcher, as locally. */
export function parseRemoteListing(stdout: Buffer, excludes: readonly string[]): RemoteListing {
  const h = header(stdout);
  if (h.kind === 'nodir') return { missing: true };
  if (h.kind === 'nofind') return { unsupported: 'the host has no GNU find (find -printf)' };
  // find's records start with a digit, so a record "labsync-end" can only be the script's own.
  const end = h.rest.indexOf(END);
  const at = end === 0 || (end > 0 && h.rest[end - 1] === 0) ? end : -1;
  // Digested as the local walker digests find's output (stat-tree.ts), the host's clock left out.
  const raw = at < 0 ? h.rest : h.rest.subarray(0, at);
  const failed = findFailed(raw);
  if (failed !== undefined) return { unsupported: `find could not list the whole folder on the host (exit ${failed}: a folder it may not read?)` };
  // A name that is not UTF-8 would be read as another (U+FFFD), which the host does not have, and two
  // such names as one: rsync's own listing carries names as bytes. (A local one is refused: walk.ts.)
  if (!isUtf8(raw)) return { unsupported: 'a file name on the host is not valid UTF-8' };
  // The plan carries regular files only: a folder holding symlinks is left to rsync's own listing.
  if (countLinks(raw) > 0) return { unsupported: 'the folder holds symlinks' };
  const rawDigest = createHash('sha256').update(JSON.stringify(excludes)).update('\0').update(raw).digest('hex');
  // Parsed on first use: an unchanged pair is recognised by rawDigest alone (engine/side-summary.ts), and
  // a run after a small change compares the listing's bytes with the remembered ones (incremental.ts).
  let parsed: ReturnType<typeof parseFindListing> | undefined;
  const listing = (): ReturnType<typeof parseFindListing> => (parsed ??= parseFindListing(raw, excludes));
  const hashes = at < 0 ? undefined : parseRemoteHashes(h.rest.subarray(at + END.length));
  return { nowMs: h.nowMs, rawDigest, raw, get paths() { return listing().paths; }, get keys() { return listing().keys; }, ...(hashes && 'keys' in hashes ? { hashes } : {}), ...(h.fsType ? { fsType: h.fsType } : {}) };
}

/** find's exit code where the listing ends with the record saying it failed. */
function findFailed(raw: Buffer): string | undefined {
  if (raw.length < 2 || raw[raw.length - 1] !== 0) return undefined;
  const from = raw.lastIndexOf(0, raw.length - 2) + 1;
  const last = raw.toString('latin1', from, raw.length - 1);
  return last.startsWith(`${FAILED} `) ? last.slice(FAILED.length + 1) : undefined;
}

const SUM = /^[0-9a-f]{64} {2}/;

/** The hash script's answer: stat records ("mode size mtime ctime ino name") and sha256sum -z records. */
export function parseRemoteHashes(stdout: Buffer): RemoteHashes | { readonly unsupported: string } {
  const h = header(stdout);
  if (h.kind === 'nodir') return { nowMs: h.nowMs, keys: new Map(), sha256: new Map() };
  if (h.kind === 'nosum') return { unsupported: 'the host has no GNU sha256sum and stat' };
  const keys = new Map<string, [number, number, number, number]>();
  const sha256 = new Map<string, string>();
  const text = h.rest.toString('utf8');
  for (let from = 0, end = text.indexOf('\0'); end >= 0; from = end + 1, end = text.indexOf('\0', from)) {
    const record = text.slice(from, end);
    if (SUM.test(record)) {
      sha256.set(record.slice(66), record.slice(0, 64));
      continue;
    }
    const [mode, size, mtime, ctime, ino] = record.split(' ', 5);
    const name = record.split(' ').slice(5).join(' ');
    // Only regular files: a path that became a folder or a link is not the file that was listed.
    if ((parseInt(mode ?? '0', 16) & 0o170000) !== 0o100000) continue;
    keys.set(name, [Number(size), secondsToMs(mtime ?? '0'), secondsToMs(ctime ?? '0'), Number(ino)]);
  }
  return { nowMs: h.nowMs, keys, sha256 };
}

/** For `doctor`: what the host lacks for labsync's own listing and hashing (nothing: it has both). */
export function capabilityCommand(pair: ResolvedPair, remote: SshEndpoint): Command {
  const script = [
    "find . -maxdepth 0 -printf '' >/dev/null 2>&1 || echo 'labsync nofind'",
    "{ printf '' | sha256sum -z >/dev/null 2>&1 && stat --printf '%.9Y' . >/dev/null 2>&1; } || echo 'labsync nosum'",
  ].join('; ');
  return sshScript(pair, remote, script, `what ${sshTarget(remote)} can do`);
}

export function parseCapabilities(stdout: string): string[] {
  const lacks: string[] = [];
  if (stdout.includes('labsync nofind')) lacks.push("has no GNU find: labsync lists it with rsync's dry run, and verifies with rsync -c (slower)");
  else if (stdout.includes('labsync nosum')) lacks.push('has no GNU sha256sum/stat: labsync verifies it with rsync -c, reading every byte on both sides');
  return lacks;
}
