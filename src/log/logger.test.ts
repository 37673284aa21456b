import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRedactor } from '../exec/redact.js';
import { tempDirs } from '../temp-dirs.fixture.js';
import { logSink } from './logger.js';

const tempDir = tempDirs();

describe('the log file', () => {
  it("keeps each pair's file lists on its pair_end line only; run_end keeps every other field, redacted", () => {
    const file = join(tempDir('labsync-log-'), 'run.log');
    const redact = makeRedactor({ LABSYNC_TEST_TOKEN: 'sekrit-value-123' });
    const sink = logSink(file, redact, false);
    const pair = { name: 't', status: 'ok', files: 2, error: 'token sekrit-value-123 refused', changes: { transfer: ['a', 'b'], delete: ['c'] } };
    sink.emit({ kind: 'pair_end', result: pair } as never);
    sink.emit({ kind: 'run_end', result: { command: 'data push', ok: true, pairs: [pair] } } as never);
    const [pairEnd, runEnd] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pairEnd.result.changes).toEqual({ transfer: ['a', 'b'], delete: ['c'] });
    expect(runEnd.msg).toBe('run_end');
    expect(runEnd.result.pairs).toEqual([{ name: 't', status: 'ok', files: 2, error: 'token *** refused' }]);
    expect(readFileSync(file, 'utf8')).not.toContain('sekrit-value-123');
  });
});
