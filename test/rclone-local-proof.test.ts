// rclone → a local folder: labsync compares both trees from its own hash caches (compare-pair.ts
// compareSides), not rclone's check, and the result and receipt name that proof as the rsync pairs do.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { pastRacyWindow } from './harness/wait.js';

interface Pair { status: string; files: number; commands: string[]; verify: { status: string; proof?: string; checked: number } | null }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

/** The receipts' proofs, oldest first (their names start with the run's time). */
const proofs = (lab: Lab): (string | undefined)[] => {
  const dir = lab.path('.labsync', 'receipts');
  return readdirSync(dir).sort().map((f) => (JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { proof?: string }).proof);
};

describe('rclone → local folder: the proof named', () => {
  it('a no-op push, check and a one-file push are proved by labsync\'s cached comparison, and say so; no rclone check runs', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: nas:raw\n`);
    for (let i = 0; i < 4; i++) lab.write(lab.path('raw', `f${i}.csv`), `row ${i}\n`);
    await pastRacyWindow(); // hashed past the racy window: the runs below answer from the caches
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const noop = await lab.cli(['data', 'push', '--json']);
    expect(noop.exitCode, noop.stdout + noop.stderr).toBe(0);
    expect(pairOf(noop)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', checked: 4, proof: 'cached' } });
    expect(pairOf(noop).commands.some((c) => / rclone check /.test(` ${c}`))).toBe(false);
    expect(proofs(lab).at(-1)).toBe('cached');
    const check = await lab.cli(['check', '--json']);
    expect(pairOf(check)).toMatchObject({ status: 'in_sync', verify: { checked: 4, proof: 'cached' } });
    // A push that sends a file is verified the same way: the changed file read, the others from the caches.
    lab.write(lab.path('raw/f1.csv'), 'row 1, changed\n');
    const some = await lab.cli(['data', 'push', '--json']);
    expect(pairOf(some)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync', checked: 4, proof: 'cached' } });
    expect(proofs(lab).at(-1)).toBe('cached');
  });
});

describe('rclone and a file name with a line break', () => {
  it('is refused before anything moves, naming the file (review 43: its list of files split the name, drift on every run)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: nas:raw\n`);
    lab.write(lab.path('raw/ok.csv'), 'ok\n').write(lab.path('raw', 'Icon\r'), 'icon').write(lab.path('raw', 'new\nline'), 'x');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(pairOf(r)).toMatchObject({ status: 'refused' });
    expect(json<{ pairs: { error: string }[] }>(r).pairs[0]?.error).toMatch(/has a line break in its name, which rclone's list of files cannot carry; nothing was sent\. Rename it, or exclude it/);
    // Excluded, the rest goes.
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8') + '    exclude: ["Icon?", "new?line"]\n');
    const ok = await lab.cli(['data', 'push', '--json']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(readdirSync(lab.outside('nas/raw'))).toEqual(['ok.csv']);
  });
});
