// `labsync sums PATH`: a checksum list of a tree, as `sha256sum`/`md5sum` would print it, sorted by path.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, type ExitCode } from '../errors.js';
import { findManifest } from '../manifest/find.js';
import { cacheDir } from '../state/paths.js';
import type { Algo } from '../verify/hash-file.js';
import { hashMany, prewarmHashPool } from '../verify/hash-pool.js';
import { hashTree } from '../verify/hash-tree.js';
import { sumsLine } from '../verify/sums-file.js';

export function parseAlgo(text: string | undefined): Algo {
  if (text === undefined || text === 'sha256') return 'sha256';
  if (text === 'md5') return 'md5';
  throw new UsageError(`--algo must be md5 or sha256, got '${text}'`);
}

/** Hashes are remembered under the enclosing manifest's .labsync/cache, when there is one. */
function cacheFor(path: string): string | undefined {
  try {
    return cacheDir(dirname(findManifest(undefined, path, {})));
  } catch {
    return undefined;
  }
}

export async function sumsCommand(path: string, algoText: string | undefined): Promise<ExitCode> {
  const algo = parseAlgo(algoText);
  const root = resolve(path);
  const s = statSync(root, { throwIfNoEntry: false });
  if (!s) throw new UsageError(`${path}: no such file or folder`);
  const lines: string[] = [];
  if (s.isFile()) {
    const [r] = await hashMany([{ path: root, sha256: algo === 'sha256', md5: algo === 'md5' }]);
    if (!r?.ok) throw new UsageError(`${path}: ${r?.ok === false ? r.error : 'cannot read'}`);
    lines.push(sumsLine(r.digests[algo] as string, path));
  } else {
    prewarmHashPool(); // the workers boot while the manifest is looked for and the walk starts
    const cacheDir = cacheFor(root);
    const warn = (message: string): void => void process.stderr.write(`labsync: warning: ${message}\n`);
    for (const f of await hashTree(root, { sha256: algo === 'sha256', md5: algo === 'md5', warn, ...(cacheDir ? { cacheDir } : {}) })) {
      lines.push(sumsLine(f[algo] as string, f.path));
    }
  }
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
