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
    expect(unitQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });
});
