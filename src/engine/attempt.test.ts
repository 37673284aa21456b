import { describe, expect, it } from 'vitest';
import type { Command, ToolOutput } from '../adapters/types.js';
import { answered } from './attempt.js';

const out = (exitCode: number, stderr: string, extra: Partial<ToolOutput> = {}): ToolOutput => ({ exitCode, stdout: '', stderr, durationMs: 1, timedOut: false, aborted: false, ...extra });
const cmd = (answers?: RegExp): Command => ({ tool: 'git', args: [], cwd: '/', mutates: false, label: 'x', ...(answers ? { answers } : {}) });

describe('answered', () => {
  it('takes a non-zero exit the command foresaw as an answer', () => {
    expect(answered(out(1, 'fatal: pathspec did not match any files'), cmd(/did not match any files/))).toBe(true);
  });
  it('never for success, another message, a command without answers, a timeout or a missing program', () => {
    expect(answered(out(0, 'did not match any files'), cmd(/did not match/))).toBe(false);
    expect(answered(out(1, 'permission denied'), cmd(/did not match/))).toBe(false);
    expect(answered(out(1, 'did not match any files'), cmd())).toBe(false);
    expect(answered(out(1, 'did not match any files', { timedOut: true }), cmd(/did not match/))).toBe(false);
    expect(answered(out(127, '', { spawnError: 'ENOENT' }), cmd(/.*/))).toBe(false);
  });
});
