// Two checkouts (two machines) pushing one snapshot pair to the same remote: every run writes the one
// unfinished folder and renames it when verified, so a review found the second run writing into the
// snapshot the first had just verified and published (a file it never had, in `latest`). Snapshot
// pairs now take the lock at the remote by default: the runs take turns, and `latest` is always one
// run's whole tree. Real rsync to a local folder remote; one run slowed by bwlimit.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { until } from './harness/wait.js';

function snapLab(lab: Lab, far: string, extra = ''): Lab {
  lab.manifest(`version: 1
defaults:
  retries: 0
models:
  - name: ckpt
    local: models
    remote: "file://${far}"
    snapshots: { keep: 1 }
${extra}`);
  return lab;
}

describe('snapshot pushes from two machines at once', () => {
  it('take turns at the remote: latest is one run\'s whole tree, and that checkout\'s check finds it in sync', async () => {
    const fast = new Lab();
    const far = fast.outside('far');
    snapLab(fast, far);
    const slow = snapLab(new Lab(), far, '    bwlimit: 400K\n');
    slow.write(slow.path('models/slow.bin'), randomBytes(1_600_000));
    fast.write(fast.path('models/fast.bin'), 'fast');

    const running = slow.spawn(['models', 'push', '--json']);
    await until('the slow run to start writing', () => existsSync(`${far}/.labsync-incomplete`), 30_000);
    const other = await fast.cli(['models', 'push', '--json']);
    const first = await running;
    expect(first.exitCode, String(first.stdout) + String(first.stderr)).toBe(0);
    // The second run either waited for the lock and ran after, or was told the remote is locked.
    expect([0, 75], other.stdout + other.stderr).toContain(other.exitCode);

    const latest = fast.tree(`${far}/latest`);
    const mine = other.exitCode === 0 ? fast : slow;
    expect(Object.keys(latest)).toEqual(other.exitCode === 0 ? ['fast.bin'] : ['slow.bin']);
    const check = await mine.cli(['check', '--json']);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  }, 120_000);
});
