// For tests: temp folders that go when the test file is done. Call tempDirs() at a test file's top
// level (it registers the file's afterAll); the folder maker it returns may be called anywhere after.
// The run's own temp root (test/harness/tmp-root.ts) would take them too, but a test removes what it
// makes: a file run on its own, or outside vitest's config, leaves /tmp as it found it.
// LABSYNC_KEEP_TMP=1 keeps them (and the run's root) to look at after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Retries: a process a test started may still be ending and writing in the folder.
const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true, maxRetries: 5 });

/** `remove` is for this module's own test (a folder that will not go). */
export function tempDirs(remove: (dir: string) => void = removeDir): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    if (process.env.LABSYNC_KEEP_TMP) return;
    for (const dir of made.splice(0)) {
      try {
        remove(dir);
      } catch (error) {
        // Not a test's failure: the run's temp root (TMPDIR) still takes it at the run's end.
        console.warn(`left ${dir}: ${(error as Error).message}`);
      }
    }
  });
  return (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
