import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder, makeFolderSync } from './own-folder.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const dir = (): string => tempDir('labsync-own-');

describe('makeFolder', () => {
  it('gives the .labsync folder ignore files of its own for git and dvc, whichever subfolder is made first', async () => {
    const root = dir();
    await makeFolder(join(root, '.labsync', 'locks'));
    makeFolderSync(join(root, 'b', '.labsync', 'logs'));
    for (const own of [join(root, '.labsync'), join(root, 'b', '.labsync')]) {
      for (const name of ['.gitignore', '.dvcignore']) expect(readFileSync(join(own, name), 'utf8')).toMatch(/^\*$/m);
    }
  });
  it("keeps a user's own ignore file, and marks nothing outside a .labsync folder", async () => {
    const root = dir();
    mkdirSync(join(root, '.labsync'));
    writeFileSync(join(root, '.labsync', '.gitignore'), 'mine\n');
    await makeFolder(join(root, '.labsync', 'cache'));
    expect(readFileSync(join(root, '.labsync', '.gitignore'), 'utf8')).toBe('mine\n');
    await makeFolder(join(root, 'data', 'x'));
    expect(existsSync(join(root, 'data', '.gitignore'))).toBe(false);
  });
});
