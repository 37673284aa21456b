import { describe, expect, it } from 'vitest';
import { parseProgress as rcloneProgress } from '../adapters/rclone/parse.js';
import { parseProgress as rsyncProgress } from '../adapters/rsync/parse.js';
import { groupReads, readableLine, READ_ACTIVITY_BYTES, readSince, StallWatch } from './stall.js';

const stats = (bytes: number, transfers = 0, checks = 0): string =>
  JSON.stringify({ level: 'warning', msg: 'Transferred: …', stats: { bytes, transfers, checks, totalBytes: 1e9, speed: 42, eta: 1087886 } });

describe('StallWatch', () => {
  it('a heartbeat that repeats the same byte count is not progress', () => {
    const w = new StallWatch(3000, rcloneProgress, 0);
    w.line(stats(7_752_512), 1000);
    for (let t = 2000; t <= 4000; t += 1000) w.line(stats(7_752_512), t);
    expect(w.stalled(3999)).toBe(false);
    expect(w.stalled(4000)).toBe(true);
  });

  it('more bytes, more files or more checks each count, however slowly', () => {
    const w = new StallWatch(3000, rcloneProgress, 0);
    w.line(stats(10), 2500);
    w.line(stats(11), 5000);
    w.line(stats(11, 1), 7500);
    w.line(stats(11, 1, 9), 10_000);
    expect(w.stalled(12_999)).toBe(false);
    // Less than before (a rewind after a failed part) is not progress either.
    w.line(stats(5, 1, 9), 12_000);
    expect(w.stalled(13_000)).toBe(true);
  });

  it('remembers what the tool said last that was not a report', () => {
    const w = new StallWatch(3000, rcloneProgress, 0);
    w.line('{"level":"error","msg":"Failed to copy: dial tcp 127.0.0.1:9: connect: connection refused\\nmore","object":"f1"}', 1);
    w.line(stats(0), 2);
    expect(readableLine(w.lastLine ?? '')).toBe('Failed to copy: dial tcp 127.0.0.1:9: connect: connection refused');
    expect(readableLine('  rsync: connection unexpectedly closed ')).toBe('rsync: connection unexpectedly closed');
  });

  it('before any report, reading counts; once a tool reports, its report alone decides', () => {
    const w = new StallWatch(3000, rsyncProgress, 0);
    w.read(READ_ACTIVITY_BYTES - 1, 1000);
    w.read(1, 2000);
    expect(w.stalled(4999)).toBe(false);
    expect(w.stalled(5000)).toBe(true);
    w.line('      1,048,576  45%   10.50MB/s    0:00:03 (xfr#1, to-chk=5/10)', 5000);
    expect(w.watchesReads).toBe(false);
    w.read(10 * READ_ACTIVITY_BYTES, 7000);
    expect(w.stalled(8000)).toBe(true);
  });

  it('a tool with no report and no way to see its reads is never called stalled', () => {
    const w = new StallWatch(1000, undefined, 0);
    w.line('Everything is up to date.', 10);
    expect(w.stalled(1_000_000)).toBe(false);
    w.read(0, 1_000_000);
    expect(w.stalled(1_000_000)).toBe(true);
  });
});

describe('readSince', () => {
  it('sums what each process read; a new process is only a baseline', () => {
    expect(readSince(new Map([[1, 100], [2, 50]]), new Map([[1, 150], [2, 50], [3, 9999]]))).toBe(50);
  });
});

describe('groupReads', () => {
  it.skipIf(process.platform !== 'linux')('sees this process and a child it started, by what they read', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', ['5']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const reads = groupReads(process.pid);
      expect(reads?.get(process.pid)).toBeGreaterThan(0);
      expect(reads?.has(child.pid as number)).toBe(true);
      expect(groupReads(2 ** 22 + 1)).toBeUndefined();
    } finally {
      child.kill();
    }
  });
});
