import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRedactor } from '../exec/redact.js';
import { tempDirs } from '../temp-dirs.fixture.js';
import { logSink } from './logger.js';

const tempDir = tempDirs();

describe('the log file', () => {
  it("keeps each pair's path lists on its pair_end line only (run_end counts them); every other field stays, redacted", () => {
    const file = join(tempDir('labsync-log-'), 'run.log');
    const redact = makeRedactor({ LABSYNC_TEST_TOKEN: 'sekrit-value-123' });
    const sink = logSink(file, redact, false);
    const pair = { name: 't', status: 'ok', files: 2, error: 'token sekrit-value-123 refused', changes: { transfer: ['a', 'b'], delete: ['c'], sourceFiles: 3, blockers: ['dirty'] }, verify: { status: 'drift', checked: 3, missing: ['x'], extra: [], changed: ['y', 'z'] }, left: ['q'] };
    sink.emit({ kind: 'pair_end', result: pair } as never);
    sink.emit({ kind: 'run_end', result: { command: 'data push', ok: true, pairs: [pair] } } as never);
    const [pairEnd, runEnd] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pairEnd.result.changes).toEqual({ transfer: ['a', 'b'], delete: ['c'], sourceFiles: 3, blockers: ['dirty'] });
    expect(pairEnd.result.verify.changed).toEqual(['y', 'z']);
    expect(runEnd.msg).toBe('run_end');
    expect(runEnd.result.pairs).toEqual([{
      name: 't', status: 'ok', files: 2, error: 'token *** refused', left: 1,
      changes: { transfer: 2, delete: 1, sourceFiles: 3, blockers: ['dirty'] },
      verify: { status: 'drift', checked: 3, missing: 1, extra: 0, changed: 2 },
    }]);
    expect(runEnd.result.command).toBe('data push');
    expect(readFileSync(file, 'utf8')).not.toContain('sekrit-value-123');
  });
});

describe('log files that would only grow (review 42)', () => {
  it('a log past 16 MiB is moved to .1 when a run opens it; dated daily logs older than 30 days go on a day\'s first run, nothing else', async () => {
    const { existsSync, writeFileSync, truncateSync } = await import('node:fs');
    const dir = join(tempDir('labsync-logs-'), '.labsync', 'logs');
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    const cron = join(dir, 'cron.log');
    writeFileSync(cron, 'old\n');
    truncateSync(cron, 17 * 1024 * 1024);
    logSink(cron, makeRedactor({}), false).emit({ kind: 'warning', message: 'new' } as never);
    expect(existsSync(`${cron}.1`)).toBe(true);
    expect(readFileSync(cron, 'utf8')).toMatch(/"msg":"warning"/);
    const day = (d: number): string => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
    for (const d of [40, 31.5, 5]) writeFileSync(join(dir, `labsync-${day(d)}.log`), 'x\n');
    writeFileSync(join(dir, `labsync-${day(41)}.log.1`), 'x\n');
    writeFileSync(join(dir, 'mine.log'), 'x\n');
    logSink(join(dir, `labsync-${day(0)}.log`), makeRedactor({}), false);
    expect(existsSync(join(dir, `labsync-${day(40)}.log`))).toBe(false);
    expect(existsSync(join(dir, `labsync-${day(5)}.log`))).toBe(true);
    expect(existsSync(join(dir, `labsync-${day(41)}.log.1`))).toBe(false);
    expect(existsSync(join(dir, 'mine.log'))).toBe(true);
    // A dated --log-file of the user's own, elsewhere: its folder is left alone (review 46).
    const theirs = tempDir('their-logs-');
    writeFileSync(join(theirs, `labsync-${day(40)}.log`), 'x\n');
    logSink(join(theirs, `labsync-${day(0)}.log`), makeRedactor({}), false);
    expect(existsSync(join(theirs, `labsync-${day(40)}.log`))).toBe(true);
    // A symlinked log is not renamed (the link would have moved, the target kept growing).
    const target = join(theirs, 'real.log');
    writeFileSync(target, 'old\n');
    truncateSync(target, 17 * 1024 * 1024);
    (await import('node:fs')).symlinkSync(target, join(theirs, 'link.log'));
    logSink(join(theirs, 'link.log'), makeRedactor({}), false);
    expect((await import('node:fs')).lstatSync(join(theirs, 'link.log')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(theirs, 'link.log.1'))).toBe(false);
  });
});

describe('a long-lived log (a watch: review 49)', () => {
  it('follows its file when another run rotates or removes it, and the dated name past midnight', async () => {
    const { renameSync, unlinkSync, existsSync } = await import('node:fs');
    const dir = tempDir('labsync-logwatch-');
    let day = 'labsync-2026-12-06.log';
    const sink = logSink(() => join(dir, day), makeRedactor({}), false, 0);
    const say = (message: string): void => sink.emit({ kind: 'warning', message } as never);
    const lines = (name: string): string[] => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l).message) : []);
    say('one');
    renameSync(join(dir, day), join(dir, `${day}.1`)); // a cron run's rotation
    say('two');
    unlinkSync(join(dir, day)); // another run's tidy
    say('three');
    day = 'labsync-2026-12-07.log';
    say('four');
    expect([lines('labsync-2026-12-06.log.1'), lines('labsync-2026-12-06.log'), lines(day)]).toEqual([['one'], ['three'], ['four']]);
  });
});
