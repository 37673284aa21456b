// A local folder remote whose tree holds symlinks: rsync --archive copies them, and `check` must see
// them too (a review found a re-pointed or deleted link reported in sync, then put back by the next
// push; over ssh the tool's comparison already saw it), by their targets, reading no file for them.
// Real rsync, two local folders.
import { rmSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { pastRacyWindow } from './harness/wait.js';

interface Pair { status: string; verify: { status: string; changed: string[]; missing: string[]; extra: string[]; proof?: string; bytesHashed?: { local: number; remote: number } } | null }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

function linkLab(mirror: boolean): Lab {
  const lab = new Lab();
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n${mirror ? '    delete: true\n' : ''}`);
  lab.write(lab.path('raw/d/f1'), 'one').write(lab.path('raw/d/f2'), 'two');
  symlinkSync('d/f1', lab.path('raw/link'));
  return lab;
}

async function checked(lab: Lab, code: number): Promise<Pair> {
  const r = await lab.cli(['check', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(code);
  return pairOf(r);
}

describe('check on a local folder remote sees its symlinks', () => {
  it('a link re-pointed or deleted at the destination is drift (exit 4), and the push that mends it leaves the pair in sync', async () => {
    const lab = linkLab(false);
    await pastRacyWindow();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await pastRacyWindow(); // the copies just written are too fresh to remember until then
    await checked(lab, 0);
    // The links are compared by their targets: no file is read for them (a review found rsync -c read both trees whole).
    expect((await checked(lab, 0)).verify).toMatchObject({ status: 'in_sync', proof: 'cached', bytesHashed: { local: 0, remote: 0 } });
    rmSync(lab.outside('nas', 'link'));
    symlinkSync('d/f2', lab.outside('nas', 'link'));
    expect((await checked(lab, 4)).verify?.changed).toEqual(['link']);
    rmSync(lab.outside('nas', 'link'));
    expect((await checked(lab, 4)).verify?.missing).toEqual(['link']);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await checked(lab, 0);
  });

  it('a link whose target differs in a byte that is not UTF-8 is drift (targets compared byte for byte)', async () => {
    const lab = linkLab(false);
    symlinkSync(Buffer.from('t\xff', 'latin1'), lab.path('raw/odd'));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    await checked(lab, 0);
    rmSync(lab.outside('nas', 'odd'));
    symlinkSync(Buffer.from('t\xfe', 'latin1'), lab.outside('nas', 'odd'));
    expect((await checked(lab, 4)).verify?.changed).toEqual(['odd']);
  });

  it('a mirror\'s link only at the destination is drift too', async () => {
    const lab = linkLab(true);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    symlinkSync('d/f2', lab.outside('nas', 'stray'));
    expect((await checked(lab, 4)).verify?.extra).toEqual(['stray']);
  });
});
