import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const MANIFEST_NAMES = ['labsync.yaml', 'labsync.yml'] as const;

/** `-c FILE`, else `$LABSYNC_CONFIG`, else labsync.yaml/.yml searched upward from `cwd`. */
export function findManifest(explicit: string | undefined, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = explicit ?? env.LABSYNC_CONFIG;
  if (given) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) {
      const from = explicit ? '-c/--config' : '$LABSYNC_CONFIG';
      throw new UsageError(`manifest not found: ${file} (from ${from})`);
    }
    return file;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of MANIFEST_NAMES) {
      const file = join(dir, name);
      if (existsSync(file)) return file;
    }
    if (dirname(dir) === dir) break;
  }
  throw new UsageError(
    `no labsync.yaml found in ${resolve(cwd)} or any folder above it`,
    'run `labsync init` to write a starter manifest, or pass -c FILE',
  );
}
