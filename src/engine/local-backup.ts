// For tools that cannot keep what they replace (aws): before a pull, copy the local files the preview
// says will be replaced or deleted into <local>/.labsync-backup/<stamp>/, the same place rsync uses.
import { copyFile, lstat, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Changes } from '../adapters/types.js';

import { BACKUP_DIR } from '../adapters/own-excludes.js';

export { BACKUP_DIR };

export async function backupLocal(root: string, changes: Changes, stamp: string): Promise<number> {
  let kept = 0;
  for (const path of new Set([...changes.transfer, ...changes.delete])) {
    const from = join(root, path);
    const s = await lstat(from).catch(() => undefined);
    if (!s?.isFile()) continue;
    const to = join(root, BACKUP_DIR, stamp, path);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to);
    kept++;
  }
  return kept;
}
