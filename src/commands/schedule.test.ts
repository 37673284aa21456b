import { describe, expect, it } from 'vitest';
import type { Manifest } from '../types.js';
import { carriedEnv, editCrontab, systemdUnits, unitQuote } from './schedule.js';

const manifest = { file: '/lab/labsync.yaml', root: '/lab', concurrency: 2, pairs: [] } as Manifest;
const block = ['# BEGIN labsync /lab/labsync.yaml', '0 * * * * run', '# END labsync /lab/labsync.yaml'];

describe('editCrontab', () => {
  it('appends, replaces in place, and removes only its own block', () => {
    const first = editCrontab('MAILTO=x\n5 * * * * other\n', manifest, block);
    expect(first).toBe(`MAILTO=x\n5 * * * * other\n${block.join('\n')}\n`);
    const moved = `${block.join('\n')}\n7 * * * * later\n`;
    expect(editCrontab(moved, manifest, [block[0] as string, '1 * * * * new', block[2] as string])).toBe(`${block[0]}\n1 * * * * new\n${block[2]}\n7 * * * * later\n`);
    expect(editCrontab(first, manifest, undefined)).toBe('MAILTO=x\n5 * * * * other\n');
    expect(editCrontab('', manifest, undefined)).toBe('');
  });
  it('a block whose markers were edited by hand (END or BEGIN gone, doubled, out of order) is refused, never guessed at; CRLF markers still match', () => {
    const [begin, line, end] = block as [string, string, string];
    const noEnd = `${begin}\n${line}\n5 * * * * mine\n`;
    expect(() => editCrontab(noEnd, manifest, block)).toThrow(/edited by hand \(BEGIN at line 1\)/);
    expect(() => editCrontab(noEnd, manifest, undefined)).toThrow(/edited by hand/);
    expect(() => editCrontab(`${line}\n${end}\n`, manifest, block)).toThrow(/END at line 2/);
    expect(() => editCrontab(`${end}\n${begin}\n`, manifest, undefined)).toThrow(/BEGIN at line 2, END at line 1/);
    expect(() => editCrontab(`${begin}\n${end}\n${begin}\n${end}\n`, manifest, block)).toThrow(/BEGIN at line 1, BEGIN at line 3/);
    expect(editCrontab(`MAILTO=x\r\n${begin}\r\n${line}\r\n${end}\r\n`, manifest, undefined)).toBe('MAILTO=x\r\n');
  });
  it('leaves another manifest\'s block alone', () => {
    const other = '# BEGIN labsync /other/labsync.yaml\n0 * * * * theirs\n# END labsync /other/labsync.yaml\n';
    expect(editCrontab(other, manifest, undefined)).toBe(other);
  });
});

describe('unitQuote', () => {
  it('quotes the systemd way', () => {
    expect(unitQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(unitQuote('/my lab/x')).toBe('"/my lab/x"');
    expect(unitQuote('50%')).toBe('"50%%"');
    // systemd expands $VAR in ExecStart= even inside quotes; Environment= expands nothing.
    expect(unitQuote('/lab/$HOME/x', true)).toBe('"/lab/$$HOME/x"');
    expect(unitQuote('PATH=/opt/$x/bin')).toBe('"PATH=/opt/$x/bin"');
    expect(unitQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });
});

describe('carriedEnv', () => {
  it('carries PATH, and LABSYNC_RCLONE and RCLONE_CONFIG when set, a relative path made absolute; a line break is refused', () => {
    expect(carriedEnv({ PATH: '/bin', LABSYNC_RCLONE: './tools/rclone', RCLONE_CONFIG: '/etc/rclone.conf' }, '/home/me/proj')).toEqual([['PATH', '/bin'], ['LABSYNC_RCLONE', '/home/me/proj/tools/rclone'], ['RCLONE_CONFIG', '/etc/rclone.conf']]);
    // A bare name is looked up on PATH, as labsync itself does: left as it is.
    expect(carriedEnv({ PATH: '/bin', LABSYNC_RCLONE: 'rclone' }, '/x')).toEqual([['PATH', '/bin'], ['LABSYNC_RCLONE', 'rclone']]);
    expect(() => carriedEnv({ PATH: '/bin', RCLONE_CONFIG: '/a\n/b' })).toThrow(/RCLONE_CONFIG holds a line break/);
  });
});

describe('systemdUnits', () => {
  it('WorkingDirectory= takes the folder as it is (quotes would be part of the path); ExecStart= quotes each word', () => {
    const spaced = { file: '/my lab/labsync.yaml', root: '/my lab', concurrency: 2, pairs: [{ name: 'a', schedule: '0 * * * *' }] } as unknown as Manifest;
    const [unit] = systemdUnits(spaced);
    expect(unit?.service).toContain('\nWorkingDirectory=/my lab\n');
    expect(unit?.service).toMatch(/ExecStart=.* -c "\/my lab\/labsync\.yaml"/);
  });
});
