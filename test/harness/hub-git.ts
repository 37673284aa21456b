// The Hub stand-in's storage: real git commits with LFS objects in the non-bare repos olah serves
// (TESTBED-models.md). Plumbing only (hash-object / update-index / write-tree / commit-tree /
// update-ref), so olah, which reads committed objects, sees a new commit on its next request.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'hub-stand-in', GIT_AUTHOR_EMAIL: 'hub@labsync.invalid',
  GIT_COMMITTER_NAME: 'hub-stand-in', GIT_COMMITTER_EMAIL: 'hub@labsync.invalid',
};

export function git(dir: string, args: readonly string[], input?: string | Buffer, env: Record<string, string> = {}): string {
  return execFileSync('git', args, { cwd: dir, env: { ...GIT_ENV, ...env }, input: input ?? '', maxBuffer: 256 * 1024 * 1024 }).toString('utf8').trim();
}

/** Where olah reads a repo: <mirrors>/<type>s/ORG/NAME. */
export const repoDir = (mirrors: string, type: string, repo: string): string => join(mirrors, `${type}s`, repo);

export const lfsPath = (dir: string, oid: string): string => join(dir, '.git', 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid);

export const lfsPointer = (oid: string, size: number): string => `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;

const GITATTRIBUTES = ['*.bin', '*.safetensors', '*.pt', '*.pth', '*.ckpt', '*.onnx', '*.h5', '*.gguf', '*.zip', '*.tar.gz']
  .map((p) => `${p} filter=lfs diff=lfs merge=lfs -text`).join('\n') + '\n';

/** A new repo with the Hub's first commit (its .gitattributes), like `POST /api/repos/create`. */
export function createRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  writeFileSync(join(dir, '.gitattributes'), GITATTRIBUTES);
  git(dir, ['add', '.gitattributes']);
  git(dir, ['commit', '-q', '-m', 'initial commit']);
}

/** The commit a branch, tag or commit id names, or undefined. */
export function resolveRev(dir: string, rev: string): string | undefined {
  if (!existsSync(join(dir, '.git'))) return undefined;
  try {
    return git(dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    return undefined;
  }
}

/** What is at `path` in `commit`: the blob id, and the LFS sha256 when the blob is a pointer. */
export function existing(dir: string, commit: string, path: string): { blob: string; sha256?: string } | undefined {
  const line = git(dir, ['ls-tree', commit, '--', path]);
  const m = /^\d+ blob ([0-9a-f]{40})\t/.exec(line);
  if (!m?.[1]) return undefined;
  const text = git(dir, ['cat-file', 'blob', m[1]]).slice(0, 300);
  const oid = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:([0-9a-f]{64})/.exec(text)?.[1];
  return { blob: m[1], ...(oid ? { sha256: oid } : {}) };
}

export type Operation =
  | { kind: 'file'; path: string; content: Buffer }
  | { kind: 'lfsFile'; path: string; oid: string; size: number }
  | { kind: 'deletedFile'; path: string }
  | { kind: 'deletedFolder'; path: string };

/** One commit on `branch` from `parent`'s tree with the operations applied; its id. */
export function commit(dir: string, branch: string, parent: string, summary: string, description: string, ops: readonly Operation[]): string {
  const index = join(dir, '.git', `standin-index-${process.pid}-${Date.now()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    git(dir, ['read-tree', parent], undefined, env);
    for (const op of ops) {
      if (op.kind === 'deletedFile') git(dir, ['update-index', '--force-remove', '--', op.path], undefined, env);
      else if (op.kind === 'deletedFolder') {
        const under = git(dir, ['ls-files', '-z', '--', op.path.replace(/\/?$/, '/')], undefined, env).split('\0').filter(Boolean);
        for (const p of under) git(dir, ['update-index', '--force-remove', '--', p], undefined, env);
      } else {
        const body = op.kind === 'file' ? op.content : Buffer.from(lfsPointer(op.oid, op.size));
        const blob = git(dir, ['hash-object', '-w', '--stdin'], body);
        git(dir, ['update-index', '--add', '--cacheinfo', `100644,${blob},${op.path}`], undefined, env);
      }
    }
    const tree = git(dir, ['write-tree'], undefined, env);
    const message = description ? `${summary}\n\n${description}` : summary;
    const id = git(dir, ['commit-tree', tree, '-p', parent], message);
    git(dir, ['update-ref', `refs/heads/${branch}`, id]);
    return id;
  } finally {
    rmSync(index, { force: true });
  }
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const blobId = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
