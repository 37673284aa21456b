// The mirror's deletion step (rsync --delete-missing-args over the named paths) writes no file: what
// it names that the source has again (a file back since the listing, a host folder's file the listing
// did not see) is left as it is, never rewritten with a new mtime and without the pair's options (a
// review found both). Real rsync, with the argv labsync builds, over two local folders.
import { execa } from 'execa';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deleteArgv } from '../src/adapters/rsync/argv.js';
import { loadManifestText } from '../src/manifest/load.js';
import { Lab } from './harness/lab.js';

describe('the deletion step (real rsync)', () => {
  it('deletes what the source lacks, replaces a file by the folder the source has there, and writes no file', async () => {
    const lab = new Lab();
    const text = `version: 1\ndata:\n  - name: raw\n    local: src\n    remote: "file://${lab.outside('dst')}"\n    delete: true\n`;
    const pair = loadManifestText(text, lab.path('labsync.yaml'), {}, lab.path()).pairs[0];
    if (!pair) throw new Error('no pair');
    const src = lab.path('src');
    const dst = lab.outside('dst');
    mkdirSync(join(src, 'x'), { recursive: true });
    lab.write(join(src, 'back.txt'), 'new at the source').write(join(src, 'D/y'), 'y').write(join(dst, 'back.txt'), 'old copy').write(join(dst, 'D/y'), 'y');
    lab.write(join(dst, 'D/gone'), 'g').write(join(dst, 'x'), 'a file').write(join(dst, 'empty-too'), '');
    writeFileSync(join(src, 'empty-too'), '');
    const old = new Date('2020-01-01T00:00:00Z');
    for (const f of ['back.txt', 'D/y', 'empty-too']) utimesSync(join(dst, f), old, old);
    const args = deleteArgv(pair, 'push', { stamp: 't', tty: false, verbose: false, resync: false, full: false } as never);
    const r = await execa('rsync', args, { cwd: lab.path(), input: ['back.txt', 'D', 'x', 'empty-too'].map((p) => `${p}\0`).join(''), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lab.tree(dst)).toEqual({ 'back.txt': 'old copy', 'D/y': 'y', 'empty-too': '' });
    expect(statSync(join(dst, 'x')).isDirectory()).toBe(true);
    for (const f of ['back.txt', 'D/y', 'empty-too']) expect(statSync(join(dst, f)).mtimeMs, f).toBe(old.getTime());
  });
});
