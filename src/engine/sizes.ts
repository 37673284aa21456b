// What a transfer moved, in files and bytes. Where the tool's own output does not say the bytes
// exactly (aws: none off a terminal, rounded on one), they are the moved files' own sizes: the
// preview's listing of the source where it has one (an aws pull), else the local files — the source
// of a push, or the files a pull has just written.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Adapter, Changes, ToolOutput, TransferStats } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';

/** Sizes of `paths` under `dir`, a few stats at a time; a file gone since is not counted. */
export async function localBytes(dir: string, paths: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < paths.length; i += 64) {
    const sizes = await Promise.all(paths.slice(i, i + 64).map((p) => stat(join(dir, p)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
    for (const n of sizes) total += n;
  }
  return total;
}

/** The tool's stats summed over its commands; bytes undefined when any command that moved files did not say them. */
export function toldStats(adapter: Adapter, outputs: readonly ToolOutput[]): TransferStats {
  let files = 0;
  let bytes: number | undefined = 0;
  for (const out of outputs) {
    const s = adapter.parseStats?.(out);
    if (!s) continue;
    files += s.files;
    bytes = s.bytes === undefined || bytes === undefined ? (s.files ? undefined : bytes) : bytes + s.bytes;
  }
  return { files, ...(bytes === undefined ? {} : { bytes }) };
}

export async function movedStats(adapter: Adapter, pair: ResolvedPair, outputs: readonly ToolOutput[], changes: Changes): Promise<{ files: number; bytes: number }> {
  // Tools that print no transfer stats (git, dvc): count what the preview said would move (commits, objects).
  if (!adapter.parseStats) return { files: changes.transfer.filter((t) => !t.startsWith('(')).length, bytes: 0 };
  const told = toldStats(adapter, outputs);
  if (told.bytes !== undefined) return { files: told.files, bytes: told.bytes };
  return { files: told.files, bytes: changes.transferBytes ?? (await localBytes(pair.local, changes.transfer)) };
}
