import { describe, expect, it } from 'vitest';
import { exitCodeFor, InterruptedError, LockedError, ManifestError, PairSetupError, UsageError, formatIssue } from './errors.js';

describe('exitCodeFor', () => {
  it('is 0 when every pair is ok, in sync, planned or skipped', () => {
    expect(exitCodeFor(['ok', 'in_sync', 'planned', 'skipped'])).toBe(0);
    expect(exitCodeFor([])).toBe(0);
  });
  it('maps each status on its own', () => {
    expect(exitCodeFor(['failed'])).toBe(1);
    expect(exitCodeFor(['refused'])).toBe(3);
    expect(exitCodeFor(['drift'])).toBe(4);
    expect(exitCodeFor(['locked'])).toBe(75);
    expect(exitCodeFor(['interrupted'])).toBe(130);
    expect(exitCodeFor(['partial'])).toBe(5);
  });
  it('applies the precedence 130 > 2 > 3 > 1 > 4 > 5 > 75', () => {
    expect(exitCodeFor(['partial', 'locked'])).toBe(5);
    expect(exitCodeFor(['partial', 'drift'])).toBe(4);
    expect(exitCodeFor(['partial', 'failed'])).toBe(1);
    expect(exitCodeFor(['locked', 'drift'])).toBe(4);
    expect(exitCodeFor(['drift', 'failed', 'locked'])).toBe(1);
    expect(exitCodeFor(['failed', 'refused'])).toBe(3);
    expect(exitCodeFor(['refused'], new UsageError('x'))).toBe(2);
    expect(exitCodeFor(['interrupted', 'refused'], new UsageError('x'))).toBe(130);
    expect(exitCodeFor(['ok'], new InterruptedError('x'))).toBe(130);
  });
  it('maps labsync errors', () => {
    expect(exitCodeFor([], new ManifestError([]))).toBe(2);
    expect(exitCodeFor([], new LockedError('x'))).toBe(75);
    expect(exitCodeFor([], new PairSetupError('detached HEAD'))).toBe(3);
    expect(exitCodeFor([], new Error('bug'))).toBe(1);
  });
});

describe('formatIssue', () => {
  it('names file, line, column and pair', () => {
    expect(formatIssue({ file: 'labsync.yaml', line: 3, col: 5, pair: 'data.raw', message: 'bad' })).toBe('labsync.yaml:3:5 data.raw: bad');
    expect(formatIssue({ file: 'labsync.yaml', line: 1, col: 1, message: 'bad' })).toBe('labsync.yaml:1:1 bad');
  });
});
