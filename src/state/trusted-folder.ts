// The folders labsync keeps what it later runs or trusts in (the V8 code cache bin/labsync.js runs,
// the hints it starts ssh sessions from, the manifest cache, kept connections' sockets) are used only
// where nobody but this user (or root) could have put anything in them or swapped them for their own:
// a check of the folder alone missed a parent another user owns (a cache under their home, `sudo -E`
// with a user's XDG_CACHE_HOME, a folder someone made in /tmp first), whose owner can rename the
// folder away and put theirs in its place. bin/labsync.js holds a near-copy (pinned by
// src/state/socket-folder-pin.test.ts).
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';

interface Stat { isDirectory(): boolean; isSymbolicLink(): boolean; uid: number; gid: number; mode: number }

let privateGid: number | undefined | null = null;

/**
 * This user's own group, if no one else is in it (the user-private groups of Debian, Ubuntu, RHEL and
 * Fedora, whose umask 002 leaves ~/.cache group-writable): writable by it is writable by this user
 * alone, as OpenSSH's Debian build also judges. Read from /etc/group and /etc/passwd once; a group found
 * in neither (from a directory service) is not taken for private.
 */
export function ownPrivateGroup(): number | undefined {
  if (privateGid !== null) return privateGid;
  privateGid = undefined;
  try {
    const gid = process.getgid?.();
    const me = userInfo().username;
    if (gid === undefined) return undefined;
    const groups = readFileSync('/etc/group', 'utf8').split('\n');
    const users = readFileSync('/etc/passwd', 'utf8').split('\n');
    // NIS compat lines (+/-) bring members these files do not list: nothing counts as private then.
    if ([...groups, ...users].some((l) => l.startsWith('+') || l.startsWith('-'))) return undefined;
    // The user-private-group convention: named as the user (Debian's `users`, gid 100, lists none of
    // the directory service's users who share it).
    const group = groups.map((l) => l.split(':')).find((f) => Number(f[2]) === gid && f[2] !== '');
    if (!group || group[0] !== me || (group[3] ?? '').split(',').some((m) => m && m !== me)) return undefined;
    const others = users.map((l) => l.split(':')).some((f) => f[3] === String(gid) && f[0] !== me);
    if (!others) privateGid = gid;
  } catch {
    // unreadable: no group counts as private
  }
  return privateGid;
}

/** Whether someone other than this user (or root) could add, rename or remove entries in a folder. */
function othersMayWrite(st: Stat): boolean {
  // A root-owned sticky folder (/tmp): others may add entries but never rename or remove this user's.
  if (st.uid === 0 && (st.mode & 0o1000) !== 0) return false;
  if ((st.mode & 0o002) !== 0) return true;
  return (st.mode & 0o020) !== 0 && st.gid !== ownPrivateGroup();
}

/** What is wrong with one folder above a used one, if anything. */
function aboveProblem(st: Stat, uid: number): string | undefined {
  // Replacing a symlink needs its parent's write permission, which the next step up is checked for.
  if (st.isSymbolicLink()) return undefined;
  if (!st.isDirectory()) return 'is not a folder';
  if (st.uid !== uid && st.uid !== 0) return 'belongs to another user';
  if (othersMayWrite(st)) return 'is writable by group or others (chmod go-w it)';
  return undefined;
}

/**
 * Why the folders above `dir` (up to /, on the path as given and on its real path) would let someone
 * else swap it; undefined: none would. `dir` itself is its caller's to judge (ssh-sockets.ts folderProblem).
 */
export function aboveFolderProblem(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined; // no owners to judge (Windows)
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (error) {
    return `cannot be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  for (const start of new Set([resolve(dir), real])) {
    for (let p = dirname(start); ; p = dirname(p)) {
      let problem: string | undefined;
      try {
        problem = aboveProblem(lstatSync(p), uid);
      } catch (error) {
        problem = `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      }
      if (problem) return `lies in ${p}, which ${problem}`;
      if (dirname(p) === p) break;
    }
  }
  return undefined;
}

/** Why `dir` is not a folder of this user's that nobody else could have written in or swapped; undefined: it is. */
export function untrustedWhy(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined;
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return `${dir} is not a folder`;
    if (st.uid !== uid) return `${dir} belongs to another user`;
    if ((st.mode & 0o022) !== 0) return `${dir} is writable by group or others (chmod 700 it)`;
  } catch (error) {
    return `${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  const above = aboveFolderProblem(dir, uid);
  return above ? `${dir} ${above}` : undefined;
}

/** A folder of this user's that nobody else could have written in or swapped: it and everything above it. */
export const trustedFolder = (dir: string, uid: number | undefined = process.getuid?.()): boolean => untrustedWhy(dir, uid) === undefined;
