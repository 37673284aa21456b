// Where scripts/ensure-tools.sh puts the Python tools it installs (one venv each, their entry points
// linked into .tools/bin): the harness puts that folder first on PATH, as `npm test` does, so a test
// file run on its own (`npx vitest run test/dvc.test.ts`) finds the same dvc.
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../../src/exec/which.js';

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
