import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dvcRepoSync, foldersAbove } from './root.js';

describe('a dvc pair\'s repository', () => {
  it('is looked for from the folder above the pair\'s up to the root, nearest first', () => {
    expect(foldersAbove('/lab/data/raw')).toEqual(['/lab/data', '/lab', '/']);
    expect(foldersAbove('/x')).toEqual(['/']);
  });

  it('is the nearest folder holding .dvc/ above the pair\'s folder; none outside a repository', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-dvc-root-')));
    mkdirSync(join(root, 'repo/.dvc'), { recursive: true });
    mkdirSync(join(root, 'repo/data/raw'), { recursive: true });
    expect(dvcRepoSync(join(root, 'repo/data/raw'))).toBe(join(root, 'repo'));
    expect(dvcRepoSync(join(root, 'elsewhere/raw'))).toBeUndefined();
  });
});
