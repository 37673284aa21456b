// Once per test run, first globalSetup of every project (unit and integration): one temp folder for
// the whole run, and TMPDIR pointing into it. os.tmpdir() reads TMPDIR, and the workers, labsync and
// the tools the tests start inherit it, so whatever a test forgets to remove goes with the run: a
// run never leaves /tmp fuller. `npm test` makes that folder itself (LABSYNC_TEST_TMP) and keeps it
// when the run fails; LABSYNC_KEEP_TMP=1 keeps it always and says where.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Each project runs its own copy of this setup in the one main process: the first makes the folder,
// the last teardown removes it, whichever order vitest sets projects up and tears them down in (the
// integration project's servers are stopped by its own later globalSetup, torn down before this).
interface Run { users: number; root: string; owned: boolean; before: string | undefined }
const KEY = Symbol.for('labsync.test-tmp-root');
const shared = globalThis as { [KEY]?: Run };

export default function setup(): () => void {
  let run = shared[KEY];
  if (!run) {
    const given = process.env.LABSYNC_TEST_TMP;
    // Short on purpose: kept ssh connections put a unix socket (≤ 108 bytes) a few folders below.
    const root = given ?? mkdtempSync(join(tmpdir(), 'labsync-tests.'));
    // Readable by all, as /tmp is: a test runs a script as another user (ensure-tools.test.ts).
    if (!given) chmodSync(root, 0o755);
    run = { users: 0, root, owned: !given, before: process.env.TMPDIR };
    shared[KEY] = run;
    process.env.TMPDIR = root;
    process.env.LABSYNC_TEST_TMP = root;
  }
  run.users++;
  const mine = run;
  return () => {
    if (--mine.users > 0) return;
    delete shared[KEY];
    if (!mine.owned) return;
    if (mine.before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = mine.before;
    delete process.env.LABSYNC_TEST_TMP;
    if (process.env.LABSYNC_KEEP_TMP) process.stderr.write(`\ntemp files of this run kept in ${mine.root} (remove it when done)\n`);
    else rmSync(mine.root, { recursive: true, force: true });
  };
}
