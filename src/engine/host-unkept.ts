// A host folder on a file system whose change times prove nothing (FUSE over a remote, FAT: review 50),
// as the host's listing named it (adapters/rsync/remote.ts FS_TYPE): said once per folder and run.
import type { RemoteTree } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import { unkeptHostType } from '../verify/mount-types.js';
import type { AttemptContext } from './attempt.js';
import type { Side } from './sides.js';

const unkeptSaid = new Set<string>();

/** The host folder's file system type where its change times prove nothing (a listing without one: as `earlier` was); else undefined. */
export function hostUnkept(pair: ResolvedPair, root: string, tree: RemoteTree, earlier: Side | undefined, ctx: Pick<AttemptContext, 'emit'>): string | undefined {
  const type = tree.fsType === undefined ? earlier?.unkept : unkeptHostType(tree.fsType);
  if (type && !unkeptSaid.has(root)) {
    unkeptSaid.add(root);
    ctx.emit({ kind: 'warning', pair: pair.name, message: `${pair.remoteLabel} is on ${type} on the host, where a rewrite that keeps a file's size and mtime leaves its stat key as it was: no hash is remembered for it, so each checksum verify reads it whole (verify: size compares sizes and times only, as rsync does)` });
  }
  return type;
}
