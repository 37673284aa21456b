// The folder kept ssh connections' sockets live in: ${XDG_CACHE_HOME:-~/.cache}/labsync/ssh, made 0700.
// Whoever can connect to such a socket gets a session on the host as this user, with no login: so the
// folder is used only while it is this user's and nobody else may write in it (nobody can plant or
// swap a socket there), and labsync never falls back to a shared folder such as /tmp.
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { userCacheFolder } from '../manifest/cache.js';
import { aboveFolderProblem } from './trusted-folder.js';

export type SocketFolder = { readonly dir: string } | { readonly off: string };

/** sun_path's size: the longest unix socket path plus its terminating NUL (Linux 108, the BSDs and macOS 104). */
export const socketPathMax = (platform: string = process.platform): number => (platform === 'linux' ? 108 : 104);

/** ssh binds `<ControlPath>.<16 random characters>` first and renames it after (OpenSSH mux.c). */
const SSH_TEMP_SUFFIX = 17;

/** Whether a socket named `nameChars` characters in `dir` fits, with ssh's temporary suffix and the NUL. */
export function socketFits(dir: string, nameChars: number, platform: string = process.platform): boolean {
  return Buffer.byteLength(join(dir, 'x'.repeat(nameChars))) + SSH_TEMP_SUFFIX < socketPathMax(platform);
}

/** Whether `mode`/`uid` (an lstat) make a folder only this user's to write in. A reason when not. */
export function folderProblem(st: { isDirectory(): boolean; uid: number; mode: number }, uid: number | undefined): string | undefined {
  if (!st.isDirectory()) return 'is not a folder';
  if (uid !== undefined && st.uid !== uid) return 'belongs to another user';
  if ((st.mode & 0o022) !== 0) return 'is writable by group or others (chmod 700 it)';
  return undefined;
}

const checked = new Map<string, SocketFolder>();

/** The socket folder, made if missing, or why it cannot be used. Checked once per folder and process. */
export function socketFolder(nameChars: number, env: NodeJS.ProcessEnv = process.env): SocketFolder {
  const dir = join(userCacheFolder(env), 'ssh');
  const known = checked.get(dir);
  if (known) return known;
  const found = check(dir, nameChars);
  checked.set(dir, found);
  return found;
}

function check(dir: string, nameChars: number): SocketFolder {
  // ssh expands %-tokens and ${VAR} in a ControlPath: the socket would be made elsewhere than the folder checked here.
  if (/%|\$\{/.test(dir)) return { off: `${dir} holds % or \${, which ssh would expand in the socket's path` };
  if (!socketFits(dir, nameChars)) return { off: `a socket in ${dir} would be longer than a unix socket path may be (${socketPathMax()} bytes)` };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return { off: `cannot make ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  let problem: string | undefined;
  try {
    // lstat: a symlink there may point anywhere, including a folder others can write in.
    problem = folderProblem(lstatSync(dir), process.getuid?.());
    if (!problem) {
      const above = aboveFolderProblem(dir);
      if (above) return { off: `${dir} ${above}: another user could put their socket in its place` };
    }
  } catch (error) {
    problem = `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return problem ? { off: `${dir} ${problem}` } : { dir };
}
