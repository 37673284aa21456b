// The commit message a push writes on the Hub: the pair, the host, and the code's git commit, so a
// commit on the Hub leads back to the code that made the model. Reads .git by hand (HEAD, a loose
// ref, packed-refs): building a command must not start a process.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ResolvedPair } from '../../types.js';
import type { CommitText } from './argv.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The git directory holding `dir` (a worktree's `.git` file points at it). */
function gitDir(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const dotGit = join(d, '.git');
    const file = read(dotGit);
    if (file !== undefined) {
      const to = /^gitdir: (.+)$/m.exec(file)?.[1]?.trim();
      return to ? resolve(d, to) : undefined;
    }
    if (read(join(dotGit, 'HEAD')) !== undefined) return dotGit;
    if (dirname(d) === d) return undefined;
  }
}

/** The commit HEAD names, or undefined outside a repo (or on an unborn branch). */
export function codeCommit(dir: string): string | undefined {
  const git = gitDir(dir);
  if (!git) return undefined;
  const head = read(join(git, 'HEAD'))?.trim() ?? '';
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  // A linked worktree keeps HEAD in its own folder and refs in the common one.
  const common = read(join(git, 'commondir'))?.trim();
  const roots = common ? [git, resolve(git, common)] : [git];
  for (const root of roots) {
    const loose = read(join(root, ref))?.trim();
    if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose;
    const packed = new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(read(join(root, 'packed-refs')) ?? '')?.[1];
    if (packed) return packed;
  }
  return undefined;
}

export function commitText(pair: ResolvedPair, stamp: string): CommitText {
  const code = codeCommit(pair.root);
  return {
    summary: `labsync push ${pair.name} from ${hostname()}${code ? ` (code ${code.slice(0, 12)})` : ''}`,
    description: [`pair: ${pair.name}`, `host: ${hostname()}`, `code commit: ${code ?? 'none (not in a git repository)'}`, `run: ${stamp}`].join('\n'),
  };
}
