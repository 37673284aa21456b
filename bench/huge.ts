// The scale rows of issue 12 (LABSYNC_BENCH_HUGE=1, not in CI): a 1,000,000-file tree pushed
// local↔local with the rsync tool, against `rsync -a` on the same two folders. Wall time is noisy on a
// shared machine, so each row also shows CPU time (user + sys) and the peak RSS of the largest process.
import { join } from 'node:path';
import { add, BIN, makeTree, medianUsage, sh, type Usage, fileChanger } from './measure.js';

const DAY = 24 * 3600;

/** The 1M-file tree both the push rows and the watch rows use (made once, ~4 GB per copy, minutes). */
export const hugeTree = (): string => makeTree('huge-1M-1-4KiB', 1_000_000, 1024, 4096, { copy: true, ageSeconds: DAY });

function rowsOf(what: string, ours: Usage, raw: Usage, rssLimit?: number): void {
  add(what, ours.ms, 'rsync -a', raw.ms, 1.0);
  add(`${what}, CPU user+sys`, ours.cpuMs, 'rsync -a', raw.cpuMs, 1.0);
  add(`${what}, peak RSS`, ours.peakMb, 'rsync -a', raw.peakMb, undefined, { unit: 'MB', ...(rssLimit ? { limit: rssLimit } : {}) });
}

export function hugeRows(): void {
  process.stderr.write('bench: the 1M-file tree, local↔local (LABSYNC_BENCH_HUGE=1)\n');
  const dir = hugeTree();
  const at = { cwd: dir };
  const push = `node ${BIN} data push -q`;
  // The first push hashes both trees and remembers them; the second finds them proved equal.
  sh(push, { ...at, expect: [0] });
  sh(push, { ...at, expect: [0] });
  sh('rsync -a src/ copy/', { ...at, expect: [0] });
  rowsOf('no-op push local↔local, 1M × 1–4 KiB', medianUsage(push, { ...at, expect: [0] }), medianUsage('rsync -a src/ copy/', { ...at, expect: [0] }), 400);

  // One changed file: new content and size, its mtime past the racy window; each tool sees one change.
  const changed = join(dir, 'src', 'd0', 'f0.bin');
  const change = fileChanger(changed);
  change();
  const ours = medianUsage(push, { ...at, expect: [0] }, 1);
  change();
  const raw = medianUsage('rsync -a src/ copy/', { ...at, expect: [0] }, 1);
  rowsOf('one changed file, push local↔local, 1M × 1–4 KiB (1 run)', ours, raw);
  sh(push, { ...at, expect: [0] });
}
