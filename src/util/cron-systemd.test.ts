import { describe, expect, it } from 'vitest';
import { expandField, onCalendar } from './cron-systemd.js';

describe('onCalendar', () => {
  it('turns cron fields into systemd calendar events', () => {
    expect(onCalendar('0 * * * *')).toEqual(['*-*-* *:00:00']);
    expect(onCalendar('*/15 2-4 * * *')).toEqual(['*-*-* 02,03,04:00,15,30,45:00']);
    expect(onCalendar('30 6 * * mon-fri')).toEqual(['Mon,Tue,Wed,Thu,Fri *-*-* 06:30:00']);
    expect(onCalendar('0 0 1 jan,jul *')).toEqual(['*-01,07-01 00:00:00']);
    expect(onCalendar('0 3 * * 0,7')).toEqual(['Sun *-*-* 03:00:00']);
    expect(onCalendar('@hourly')).toEqual(['hourly']);
    expect(onCalendar('@reboot')).toEqual([]);
  });
  it('keeps cron\'s OR of day-of-month and day-of-week as two events', () => {
    expect(onCalendar('0 12 1 * 1')).toEqual(['*-*-01 12:00:00', 'Mon *-*-* 12:00:00']);
    // A field starting with * counts as unrestricted for that OR (crontab(5)): cron ANDs here, every other day that is a Monday.
    expect(onCalendar('0 0 */2 * 1')).toEqual(['Mon *-*-01,03,05,07,09,11,13,15,17,19,21,23,25,27,29,31 00:00:00']);
  });
  it('expands ranges with steps', () => {
    expect(expandField('1-10/3', 0, 59)).toEqual([1, 4, 7, 10]);
    expect(expandField('5/20', 0, 59)).toEqual([5, 25, 45]);
    expect(expandField('*', 0, 59)).toBe('*');
  });
});
