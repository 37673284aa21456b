// The commit a folder's git checkout is at, for the receipt, read from .git's files the way git
// resolves HEAD (HEAD → loose ref → packed-refs; a worktree's `.git` file and its commondir), so a
// run starts no `git rev-parse`. Anything this reader is not sure git would see the same way (GIT_*
// variables that move the repository, a bare repository, another filesystem or owner on the way up,
// reftable) is handed to git itself.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** What git is asked instead: an answer git would give differently than these files say. */
export const ASK_GIT = Symbol('ask git');
type Answer = string | null | typeof ASK_GIT;

const HEX = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MOVES_REPO = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES', 'GIT_DISCOVERY_ACROSS_FILESYSTEM', 'GIT_OBJECT_DIRECTORY'];
// Refs each worktree keeps for itself (git's "per-worktree refs"); every other ref lives in the common dir.
const PER_WORKTREE = /^(?:[A-Z_]+|refs\/(?:bisect|worktree|rewritten)\/.*)$/;

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
};

const kind = (path: string): 'dir' | 'file' | undefined => {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
};

function resolveRef(gitDir: string, common: string, ref: string, depth = 0): Answer {
  if (depth > 5 || ref.includes('..')) return ASK_GIT;
  const loose = read(join(PER_WORKTREE.test(ref) ? gitDir : common, ref))?.trim();
  if (loose !== undefined) {
    if (HEX.test(loose)) return loose;
    if (loose.startsWith('ref: ')) return resolveRef(gitDir, common, loose.slice(5).trim(), depth + 1);
    return ASK_GIT;
  }
  const packed = read(join(common, 'packed-refs'));
  for (const line of packed?.split('\n') ?? []) {
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(space + 1).trimEnd() === ref) return HEX.test(line.slice(0, space)) ? line.slice(0, space) : ASK_GIT;
  }
  return null; // an unborn branch: git rev-parse --verify HEAD fails there too
}

function headOf(gitDir: string): Answer {
  const commonRel = read(join(gitDir, 'commondir'))?.trim();
  const common = commonRel ? resolve(gitDir, commonRel) : gitDir;
  if (kind(join(gitDir, 'reftable')) || kind(join(common, 'reftable'))) return ASK_GIT;
  const head = read(join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return ASK_GIT;
  if (HEX.test(head)) return head;
  if (head.startsWith('ref: ')) return resolveRef(gitDir, common, head.slice(5).trim());
  return ASK_GIT;
}

/** HEAD of the checkout `dir` is in: its commit id, null outside any repository or on an unborn branch, ASK_GIT when unsure. */
export function readGitHead(dir: string, env: NodeJS.ProcessEnv = process.env): Answer {
  if (MOVES_REPO.some((name) => env[name] !== undefined)) return ASK_GIT;
  try {
    let at = realpathSync(dir);
    const dev = statSync(at).dev;
    const uid = process.geteuid?.();
    for (;;) {
      const st = statSync(at);
      // git stops at a filesystem boundary and refuses a repository another user owns (safe.directory).
      if (st.dev !== dev) return ASK_GIT;
      const dotGit = join(at, '.git');
      const k = kind(dotGit);
      if (k === 'dir' && kind(join(dotGit, 'HEAD')) === 'file') return uid !== undefined && st.uid !== uid ? ASK_GIT : headOf(dotGit);
      if (k === 'file') {
        const target = /^gitdir: (.+)$/m.exec(read(dotGit) ?? '')?.[1]?.trim();
        if (!target) return ASK_GIT;
        return uid !== undefined && st.uid !== uid ? ASK_GIT : headOf(isAbsolute(target) ? target : resolve(at, target));
      }
      // A bare repository (or a .git git would not take): git's own rules decide.
      if (k || (kind(join(at, 'HEAD')) === 'file' && kind(join(at, 'objects')) === 'dir' && kind(join(at, 'refs')) === 'dir')) return ASK_GIT;
      const up = dirname(at);
      if (up === at) return null;
      at = up;
    }
  } catch {
    return ASK_GIT;
  }
}
