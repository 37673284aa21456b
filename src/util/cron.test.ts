import { describe, expect, it } from 'vitest';
import { cronProblem } from './cron.js';

describe('cronProblem', () => {
  it('accepts what crontab accepts', () => {
    for (const ok of ['0 * * * *', '*/15 2-5 1,15 jan-mar mon-fri', '@hourly', '30 4 * * 7', '0 0 1 1 *']) expect(cronProblem(ok), ok).toBeUndefined();
  });
  it('names what is wrong', () => {
    expect(cronProblem('0 * * *')).toMatch(/5 fields/);
    // YAML's `schedule: |` leaves a trailing line break (trimmed, as the cron line is); one inside would split the line.
    expect(cronProblem('0 * * * *\n')).toBeUndefined();
    expect(cronProblem('0 *\n* * *')).toMatch(/one line/);
    expect(cronProblem('61 * * * *')).toMatch(/minute '61' is out of range/);
    expect(cronProblem('* * * * */0')).toMatch(/step/);
    expect(cronProblem('* * * foo *')).toMatch(/month 'foo'/);
  });
});
