// For the early-hash tests (early-hash.test.ts here, test/early-hash-workers.test.ts with the built
// workers): a local side over `n` files a day old (past any racy window), listed as the planner lists
// it, every file planned as missing, and what each file holds.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlannedFile } from '../plan/types.js';
import { HashCache } from '../verify/hash-cache.js';
import { statTree } from '../verify/stat-tree.js';
import type { Side } from './sides.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

export async function oldSide(n: number): Promise<{ side: Side; files: PlannedFile[]; bodies: Map<string, string> }> {
  const root = tempDir('early-');
  const bodies = new Map<string, string>();
  const old = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < n; i++) {
    const path = `d${i % 4}/f${i}`;
    const body = `file ${i} `.repeat(1 + (i % 5));
    mkdirSync(join(root, `d${i % 4}`), { recursive: true });
    writeFileSync(join(root, path), body);
    utimesSync(join(root, path), old, old);
    bodies.set(path, body);
  }
  const listing = await statTree(root);
  const side: Side = {
    where: 'local', path: root, missing: false, paths: listing.paths, keys: listing.keys, nowMs: Date.now(), cacheRoot: root, racy: new Set(),
    cache: HashCache.open(undefined, root, { listing }),
  };
  const files = listing.paths.map((path, i) => ({ path, size: listing.keys[i * 4] as number, reason: 'missing' as const }));
  return { side, files, bodies };
}
