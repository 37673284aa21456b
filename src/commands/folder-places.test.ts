import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { walkLinks } from './folder-places.js';

describe('walkLinks', () => {
  it('names every link met as the kernel resolves the path (a chain, a link above another, `..` after one), and the first part missing', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-walk-')));
    mkdirSync(join(root, 'gpfs/runs/r1'), { recursive: true });
    symlinkSync(join(root, 'gpfs'), join(root, 'home'));
    symlinkSync('runs/current', join(root, 'gpfs/latest'));
    symlinkSync('r1', join(root, 'gpfs/runs/current'));
    const hops: (readonly [string, string])[] = [];
    await walkLinks(join(root, 'home/latest/ckpt'), hops);
    expect(hops).toEqual([[join(root, 'home'), join(root, 'gpfs')], [join(root, 'gpfs/latest'), 'runs/current'], [join(root, 'gpfs/runs/current'), 'r1'], [join(root, 'gpfs/runs/r1/ckpt'), '\0missing']]);
    const up: (readonly [string, string])[] = [];
    // home/.. is the parent of gpfs (root), as the kernel reads it.
    await walkLinks(`${join(root, 'home')}/../gpfs/runs`, up);
    expect(up).toEqual([[join(root, 'home'), join(root, 'gpfs')]]);
  });
});
