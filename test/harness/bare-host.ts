// A host whose PATH lacks some tools (GNU find, sha256sum): its own sshd with `SetEnv PATH=…` over a
// folder of links to the tools it keeps. Nothing is removed from the machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const KEPT = ['sh', 'bash', 'rsync', 'cat', 'date', 'xargs', 'stat', 'sha256sum', 'find', 'mkdir', 'ls'];

/** `dir`: a fresh folder for the host; `bin` goes into its sshd's `SetEnv PATH=`. */
export function hostWithout(dir: string, missing: readonly string[]): { dir: string; bin: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of KEPT) {
    if (missing.includes(tool)) continue;
    const path = execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
    symlinkSync(path, join(bin, tool));
  }
  return { dir, bin };
}
