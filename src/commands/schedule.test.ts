import { describe, expect, it } from 'vitest';
import type { Manifest } from '../types.js';
import { editCrontab, unitQuote } from './schedule.js';

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
    // systemd expands $VAR in ExecStart= even inside quotes.
    expect(unitQuote('/lab/$HOME/x')).toBe('"/lab/$$HOME/x"');
    expect(unitQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });
});
