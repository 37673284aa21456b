import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inPieces, listingFileFor, saveListing } from './listing-file.js';

describe('a kept listing written from its parts', () => {
  const parts = Array.from({ length: 1356 }, (_, i) => Buffer.from(`${i} 1733500000.0 1733500000.0 ${i} d${i % 7}/f${i}.bin\0`.repeat(1 + (i % 5))));
  const whole = Buffer.concat(parts);

  it('joins find\'s small pipe reads into few pieces of at least the size asked, the same bytes in order', () => {
    const pieces = [...inPieces(parts, 16 * 1024)];
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    expect(pieces.length).toBeLessThan(parts.length / 10);
    for (const p of pieces.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(16 * 1024);
    // A part already as large as a piece is passed on as it is, not copied.
    const big = Buffer.alloc(64);
    expect([...inPieces([big], 32)][0]).toBe(big);
    expect([...inPieces([], 32)]).toEqual([]);
  });

  it('saves exactly the listing\'s bytes, from its parts or from one buffer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labsync-listing-'));
    await saveListing(dir, '/lab/data', parts);
    expect(readFileSync(listingFileFor(dir, '/lab/data')).equals(whole)).toBe(true);
    await saveListing(dir, '/lab/other', whole);
    expect(readFileSync(listingFileFor(dir, '/lab/other')).equals(whole)).toBe(true);
  });
});
