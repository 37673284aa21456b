import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ToolOutput } from '../types.js';
import { classify } from './classify.js';

const out = (exitCode: number, stderr = '', extra: Partial<ToolOutput> = {}): ToolOutput => ({ exitCode, stdout: '', stderr, durationMs: 1, timedOut: false, aborted: false, ...extra });

describe('rsync classify', () => {
  it('is ok on 0, and ok with a warning on vanished files (24)', () => {
    expect(classify(out(0))).toEqual({ kind: 'ok' });
    expect(classify(out(24, 'file has vanished: "/x"'))).toMatchObject({ kind: 'ok', warning: expect.stringMatching(/vanished/) });
  });
  it('marks a missing source (recorded stderr)', () => {
    const stderr = readFileSync(new URL('../../../fixtures/tool-output/rsync-3.5.0/missing-source.stderr', import.meta.url), 'utf8');
    expect(classify(out(23, stderr))).toMatchObject({ kind: 'fatal', safety: true, reason: expect.stringMatching(/^the source does not exist: rsync: \[sender\] change_dir/) });
  });
  it('retries dropped connections and timeouts, not auth or disk-full', () => {
    expect(classify(out(255, 'ssh: connect to host 127.0.0.1 port 1: Connection refused\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]')).kind).toBe('retry');
    expect(classify(out(12, 'rsync: connection unexpectedly closed')).kind).toBe('retry');
    expect(classify(out(30)).kind).toBe('retry');
    expect(classify(out(0, '', { timedOut: true })).kind).toBe('retry');
    expect(classify(out(255, 'root@127.0.0.1: Permission denied (publickey).'))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^ssh refused/) });
    expect(classify(out(255, 'Host key verification failed.')).kind).toBe('fatal');
    expect(classify(out(11, 'rsync: [receiver] write failed on "/d/f": No space left on device (28)'))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^disk full/) });
  });
  it('says which folder is in the way of a source file, and what replaces it', () => {
    const stderr = 'cannot delete non-empty directory: x\ncould not make way for new regular file: x\nrsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n';
    expect(classify(out(23, stderr))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^could not replace the folder x with the source's file of that name/), hint: expect.stringMatching(/delete: true/) });
  });
  it('treats unknown codes as fatal with the tool\'s own words', () => {
    expect(classify(out(1, 'rsync: --bogus: unknown option\nrsync error: syntax or usage error (code 1) at main.c(1795) [client=3.5.0]'))).toEqual({ kind: 'fatal', reason: 'rsync: --bogus: unknown option' });
  });
});
