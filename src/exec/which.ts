import { accessSync, constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Where `program` may be: itself when it is a path, else each PATH folder's entry of that name. */
const candidates = (program: string, path: string): string[] => (program.includes('/') ? [program] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program)));

/** The absolute path of `program` on PATH, or undefined. */
export async function which(program: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const candidate of candidates(program, path)) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `program` (a path, or a name looked up on `path`) can be executed: a few stat calls, no process. */
export function runnableSync(program: string, path = process.env.PATH ?? ''): boolean {
  return candidates(program, path).some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
