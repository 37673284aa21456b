// `doctor`: for each ssh host of an rsync pair, whether its connection is kept between runs, for how
// long and where its socket lives, or why not (engine/ssh-keep.ts decides the same way for a run).
import { sshTarget } from '../adapters/rsync/ssh.js';
import { keptFor } from '../engine/ssh-keep.js';
import type { Manifest } from '../types.js';

export function keptLines(manifest: Manifest): { kept: boolean; line: string }[] {
  const seen = new Set<string>();
  const out: { kept: boolean; line: string }[] = [];
  for (const pair of manifest.pairs) {
    if (pair.tool !== 'rsync' || pair.remote.type !== 'ssh') continue;
    const name = `${sshTarget(pair.remote)}:${pair.remote.port ?? 22}`;
    const k = keptFor(pair);
    const line = 'off' in k
      ? `ssh connection to ${name} not kept: ${k.off}`
      : `ssh connection to ${name} kept ${k.seconds}s after a run (sockets in ${k.dir})`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ kept: !('off' in k), line });
  }
  return out;
}
