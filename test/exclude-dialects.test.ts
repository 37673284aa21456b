// An exclude must leave out the same files in labsync's plan (verify/glob.ts) as in the tool that moves
// them: rsync reads the pattern itself, rclone and aws get labsync's translation. A mismatch is a file
// planned but never moved (drift on every run) or moved but not planned (past an exclude, both ways in
// a bisync). Review 43 found `.git` leaving .git/config to rclone and `**/*.tmp` taking a top-level
// a.tmp in rsync only. The real rsync and rclone list the same tree here; no server is involved.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filters as rcloneFilters } from '../src/adapters/rclone/argv.js';
import type { ResolvedPair } from '../src/types.js';
import { compileExcludes } from '../src/verify/glob.js';
import { tmpdir } from 'node:os';

const FILES = ['top.bin', 'c.tmp', 'b.tmp', 'a.tmp', 'd/b.tmp', 'd/e/c.tmp', '.git/config', '.git/objects/ab/cd', 'node_modules/pkg/i.js', 'src/node_modules/x.js', 'keep/x', 'ckpt/model.pt', 'logs.tmp/run.txt', 'cache/k', 'd/cache/k2'];

/** What labsync's matcher leaves in: an excluded folder is not entered, as the walker prunes it. */
function byLabsync(patterns: readonly string[]): string[] {
  const m = compileExcludes(patterns);
  return FILES.filter((f) => {
    const parts = f.split('/');
    return !parts.some((_, i) => m.excludes(parts.slice(0, i + 1).join('/'), i < parts.length - 1));
  }).sort();
}

async function tree(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dialects-'));
  for (const f of FILES) {
    mkdirSync(join(dir, 'src-tree', f, '..'), { recursive: true });
    writeFileSync(join(dir, 'src-tree', f), f);
  }
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'rclone.conf'), '');
  return dir;
}

describe('an exclude leaves out the same files for labsync, rsync and rclone (the real tools over one tree)', () => {
  const cases: readonly (readonly string[])[] = [['**/*.tmp'], ['.git', 'node_modules'], ['cache'], ['/cache/'], ['*.tmp'], ['**/cache/'], ['/**/c.tmp'], ['/**/top.bin'], ['**/'], ['**/**/b.tmp'], ['/**/']];
  it.each(cases)('%s', async (...patterns) => {
    const dir = await tree();
    const src = join(dir, 'src-tree');
    const want = byLabsync(patterns);
    // rsync: what a push would create in an empty folder, files only.
    const rs = await execa('rsync', ['-rn', '--out-format=%n', ...patterns.map((p) => `--exclude=${p}`), `${src}/`, `${join(dir, 'empty')}/`]);
    expect(rs.stdout.split('\n').filter((l) => l && !l.endsWith('/')).sort(), 'rsync').toEqual(want);
    // rclone: the filters labsync gives it for this pair.
    const pair = { exclude: patterns, local: src, root: dir, tool: 'rclone' } as unknown as ResolvedPair;
    const rc = await execa('rclone', ['lsf', '-R', '--files-only', '--config', join(dir, 'rclone.conf'), ...rcloneFilters(pair), src]);
    expect(rc.stdout.split('\n').filter(Boolean).sort(), 'rclone').toEqual(want);
    expect(readdirSync(join(dir, 'empty'))).toEqual([]);
  });
});
