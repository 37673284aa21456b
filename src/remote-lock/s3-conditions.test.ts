import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDir } from '../state/paths.js';
import { forgetHonours, honoursConditions, rememberHonours } from './s3-conditions.js';

describe('the remembered answer of an S3 store to conditional writes', () => {
  const store = 'http://127.0.0.1:9000/ b';
  it('is kept per endpoint URL and bucket, for a week, and forgotten on demand', () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-s3c-'));
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(honoursConditions(root, store, now)).toBe(false);
    rememberHonours(root, store, now);
    rememberHonours(root, 'http://127.0.0.1:9000/other/ b', now);
    expect(honoursConditions(root, store, now + 6 * 86_400_000)).toBe(true);
    expect(honoursConditions(root, store, now + 8 * 86_400_000)).toBe(false);
    // Remembered "in the future" (a clock set back since): not trusted.
    expect(honoursConditions(root, store, now - 60_000)).toBe(false);
    forgetHonours(root, store);
    expect(honoursConditions(root, store, now)).toBe(false);
    expect(honoursConditions(root, 'http://127.0.0.1:9000/other/ b', now)).toBe(true);
  });
  it('reads the older list form, or a damaged file, as nothing remembered', () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-s3c-'));
    rememberHonours(root, store);
    const file = join(cacheDir(root), 's3-conditional-writes.json');
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toEqual([store]);
    writeFileSync(file, JSON.stringify([store]));
    expect(honoursConditions(root, store)).toBe(false);
    writeFileSync(file, '{"');
    expect(honoursConditions(root, store)).toBe(false);
  });
});
