import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ASK_GIT, readGitHead } from './git-head.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

// Real repositories made by git, isolated from the user's config.
const ENV: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES']) delete ENV[name];
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
/** What labsync asked git before: the answer the files must give. */
const gitSays = (dir: string): string | null => {
  try {
    return git(dir, 'rev-parse', '--verify', '--quiet', 'HEAD') || null;
  } catch {
    return null;
  }
};

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'labsync-githead-'));
  roots.push(root);
  const dir = join(root, 'repo');
  mkdirSync(join(dir, 'data', 'deep'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'a.txt'), 'a');
  git(dir, 'add', 'a.txt');
  git(dir, 'commit', '-q', '-m', 'one');
  return dir;
}

const clean = { PATH: process.env.PATH };

describe('git HEAD from .git', () => {
  it('a branch (loose ref), from the top and from a subfolder', () => {
    const dir = repo();
    expect(readGitHead(dir, clean)).toBe(gitSays(dir));
    expect(readGitHead(join(dir, 'data', 'deep'), clean)).toMatch(/^[0-9a-f]{40}$/);
    expect(readGitHead(join(dir, 'data', 'deep'), clean)).toBe(gitSays(dir));
  });

  it('packed refs, and a loose ref newer than the packed one', () => {
    const dir = repo();
    git(dir, 'pack-refs', '--all');
    expect(readGitHead(dir, clean)).toBe(gitSays(dir));
    writeFileSync(join(dir, 'b.txt'), 'b');
    git(dir, 'add', 'b.txt');
    git(dir, 'commit', '-q', '-m', 'two'); // loose refs/heads/main again, the packed one now stale
    expect(readGitHead(dir, clean)).toBe(gitSays(dir));
  });

  it('a detached HEAD', () => {
    const dir = repo();
    const first = gitSays(dir) as string;
    writeFileSync(join(dir, 'b.txt'), 'b');
    git(dir, 'add', 'b.txt');
    git(dir, 'commit', '-q', '-m', 'two');
    git(dir, 'checkout', '-q', '--detach', first);
    expect(readGitHead(dir, clean)).toBe(first);
  });

  it('a linked worktree (a .git file, HEAD in its own dir, refs in the common dir)', () => {
    const dir = repo();
    const wt = join(dirname2(dir), 'wt');
    git(dir, 'worktree', 'add', '-q', '-b', 'side', wt);
    writeFileSync(join(wt, 'c.txt'), 'c');
    git(wt, 'add', 'c.txt');
    git(wt, 'commit', '-q', '-m', 'side');
    git(dir, 'pack-refs', '--all');
    expect(readGitHead(wt, clean)).toBe(gitSays(wt));
    expect(readGitHead(wt, clean)).not.toBe(gitSays(dir));
    expect(readGitHead(dir, clean)).toBe(gitSays(dir));
  });

  it('an unborn branch and a folder in no repository: null, as git says', () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-githead-'));
    roots.push(root);
    const plain = join(root, 'plain');
    mkdirSync(plain);
    // tmpdir is in no repository here; if it ever were, the answer would be that repository's.
    expect(readGitHead(plain, clean)).toBe(gitSays(plain));
    const fresh = join(root, 'fresh');
    mkdirSync(fresh);
    git(fresh, 'init', '-q');
    expect(readGitHead(fresh, clean)).toBeNull();
    expect(gitSays(fresh)).toBeNull();
  });

  it('hands to git what it cannot be sure of: GIT_DIR set, a bare repository, a damaged HEAD, a missing folder', () => {
    const dir = repo();
    expect(readGitHead(dir, { ...clean, GIT_DIR: join(dir, '.git') })).toBe(ASK_GIT);
    const bare = join(dirname2(dir), 'bare.git');
    git(dirname2(dir), 'clone', '-q', '--bare', dir, bare);
    expect(readGitHead(bare, clean)).toBe(ASK_GIT);
    writeFileSync(join(dir, '.git', 'HEAD'), 'garbage\n');
    expect(readGitHead(dir, clean)).toBe(ASK_GIT);
    expect(readGitHead(join(dir, 'nope'), clean)).toBe(ASK_GIT);
  });
});

function dirname2(p: string): string {
  return join(p, '..');
}
