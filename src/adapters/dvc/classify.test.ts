import { describe, expect, it } from 'vitest';
import type { Command } from '../types.js';
import { classify } from './classify.js';

const push: Command = { tool: 'dvc', args: ['push'], cwd: '/', env: {}, mutates: true, label: 'push', pair: 'raw' };
const out = (stderr: string, exitCode = 1) => ({ exitCode, stdout: '', stderr, timedOut: false, aborted: false, durationMs: 1 });

describe('dvc classify', () => {
  it('an md5 holding 403 in a transfer that was reset is retried, not "credentials refused"; a real 403 is fatal', () => {
    expect(classify(out("ERROR: failed to transfer 'ab403cd9e0f1a2b3c4d5e6f708192a3b' - Connection reset by peer"), push)).toMatchObject({ kind: 'retry' });
    expect(classify(out('ERROR: unexpected error - An error occurred (403) when calling the HeadObject operation: Forbidden'), push)).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused/) });
  });
  it("dvc's own lock on an output (rwlock) is locked, as the repository lock is", () => {
    expect(classify(out("ERROR: '/lab/data/raw' is busy, it is being blocked by:\n  (PID 4711): dvc push\n", 255), push)).toMatchObject({ kind: 'fatal', locked: true });
  });
});
