// A child process of `watch` (folder-asker.ts): asks where each pair's watch looks (watchedPlace) and
// which folder is there (folderId), one JSON line in, one out; a question sent again looks whether the
// pair folder's link moved (folder-places.ts). A folder on a
// network file system whose server stopped answering holds one of this process's threads (it is
// started with many), never one of watch's: watch's own four are left for its runs, and its exit does
// not wait for a thread stuck in the kernel (node joins them at exit, nodejs/node#35021).
import { createInterface } from 'node:readline';
import { FolderPlaces, type PairFolder } from './folder-places.js';

// A stop signalled to the whole group (systemd's control group, Slurm's job step, Ctrl-C in a terminal) is
// watch's to handle: this helper ends when watch closes it or dies (review 60: killed first, its questions
// had been taken as answered).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
const places = new FolderPlaces((n, p) => process.stdout.write(`${JSON.stringify({ n, local: p.local, top: p.top, id: p.id ?? null, repo: p.repo ?? null })}\n`));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let q: { n: number; pair: PairFolder };
  try {
    q = JSON.parse(line) as typeof q;
  } catch {
    return;
  }
  places.ask(q.n, q.pair);
});
// Watch gone (its end of the pipe closed, a watch killed too): nothing more to answer. Killed, not
// exited: node's exit waits for every thread of its pool, one of which may wait on a dead folder.
lines.on('close', () => process.kill(process.pid, 'SIGKILL'));
