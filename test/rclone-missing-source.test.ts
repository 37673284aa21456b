// A pull through rclone from a remote folder that does not exist (a typo in its path) is a failure
// that says so, never an empty source reported in sync (a review found `ok`, nothing pulled): its
// listing's "directory not found" is an empty answer to a push only. Real rclone, a local folder remote.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';

interface Pair { status: string; error: string | null }

describe('rclone pull from a missing remote folder', () => {
  it('is refused (exit 3) naming the missing source; a push to it creates it', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: nas:typo\n`);
    const r = await lab.cli(['data', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(json<{ pairs: Pair[] }>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/the source does not exist.*directory not found/) });
    expect(existsSync(lab.path('raw'))).toBe(false);

    lab.write(lab.path('raw/a.csv'), 'a');
    const push = await lab.cli(['data', 'push', '--json']);
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(lab.tree(lab.outside('nas', 'typo'))).toEqual({ 'a.csv': 'a' });
  });
});
