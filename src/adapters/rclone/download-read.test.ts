import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { downloadRead, parseCombined } from './parse.js';

// `rclone check --combined - --download --use-json-log --stats 1s --stats-log-level NOTICE a b` (rclone
// v1.60.1, exit 1): g (500 B) equal on both sides; big (100,000 B) differing from byte 50,000, read on
// each side up to its first differing 64 KiB block; f of another size on each side (not read); only
// here on one side.
const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/rclone-1.60.1/${name}`, import.meta.url), 'utf8');

describe('rclone check --download', () => {
  it('its count of the bytes read, halved: both copies are read in step', () => {
    // 2 × 500 (g) + 2 × 65,536 (big).
    expect(downloadRead(fixture('check-download.stderr'))).toEqual({ local: 66_036, remote: 66_036 });
    expect(parseCombined(fixture('check-download.stdout'), fixture('check-download.stderr'))).toEqual({ checked: 4, missing: ['only'], extra: [], changed: ['big', 'f'] });
  });

  it('no stats line (a check that stopped before any): no count', () => {
    expect(downloadRead('2026/12/05 14:18:39 ERROR : connection refused\n')).toBeUndefined();
  });
});
