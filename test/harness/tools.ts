// Where scripts/ensure-tools.sh puts the Python tools it installs (one venv each, their entry points
// linked into .tools/bin): the harness puts that folder first on PATH, as `npm test` does, so a test
// file run on its own (`npx vitest run test/dvc.test.ts`) finds the same dvc.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../../src/exec/which.js';
import { programOf } from '../../src/exec/program.js';
import { atLeast, BISYNC_MODERN } from '../../src/adapters/rclone/features.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS_BIN = join(process.env.LABSYNC_TOOLS ?? join(REPO, '.tools'), 'bin');

/** `path` with the tools folder first (once). */
export function withTools(path = ''): string {
  return path.split(delimiter).includes(TOOLS_BIN) ? path : [TOOLS_BIN, path].filter(Boolean).join(delimiter);
}

/** The Python that runs `program` (its script's #! line), for tests that import the tool's modules. */
export async function pythonOf(program: string, path: string): Promise<string> {
  const script = await which(program, path);
  const shebang = script ? /^#!(\S*python[\d.]*)\s*$/m.exec(readFileSync(script, 'utf8').split('\n', 1)[0] ?? '') : null;
  return shebang?.[1] ?? 'python3';
}

/** The rclone the tests drive labsync with (LABSYNC_RCLONE, else the PATH's), and whether its bisync has policies and recovery (≥ 1.66). */
export function rcloneUnderTest(): { readonly binary: string; readonly version: string; readonly modern: boolean } {
  const binary = programOf('rclone');
  const line = execFileSync(binary, ['version'], { encoding: 'utf8', env: { ...process.env, PATH: withTools(process.env.PATH), RCLONE_CONFIG: '/dev/null' } }).split('\n')[0] ?? '';
  const version = /rclone v?(\S+)/.exec(line)?.[1] ?? 'unknown';
  return { binary, version, modern: atLeast(version, BISYNC_MODERN) };
}
