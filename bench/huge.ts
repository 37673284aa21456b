// The scale rows of issue 12 (LABSYNC_BENCH_HUGE=1, not in CI): a 1,000,000-file tree pushed
// local↔local with the rsync tool, against `rsync -a` on the same two folders. Wall time is noisy on a
// shared machine, so each row also shows CPU time (user + sys) and the peak RSS of the largest process,
// and labsync and rsync alternate run by run (a load that comes and goes hits both alike).
// LABSYNC_BENCH_HUGE_DIR: an existing tree to use instead (src/, copy/ and a labsync.yaml whose one pair
// pushes src to copy over file://), since making one takes minutes and ~8 GB.
import { join } from 'node:path';
import { add, BIN, makeTree, median, RUNS, sh, usage, type Usage, fileChanger } from './measure.js';

const DAY = 24 * 3600;

/** The 1M-file tree both the push rows and the watch rows use (made once, ~4 GB per copy, minutes). */
export const hugeTree = (): string => process.env.LABSYNC_BENCH_HUGE_DIR ?? makeTree('huge-1M-1-4KiB', 1_000_000, 1024, 4096, { copy: true, ageSeconds: DAY });

const medianOf = (all: readonly Usage[]): Usage => ({ ms: median(all.map((u) => u.ms)), cpuMs: median(all.map((u) => u.cpuMs)), peakMb: median(all.map((u) => u.peakMb)) });

/** RUNS rounds of `a` then `b`, each timed on its own, `before` ahead of each of them. */
function alternating(a: () => Usage, b: () => Usage, before: () => void = () => undefined): [Usage, Usage] {
  const as: Usage[] = [];
  const bs: Usage[] = [];
  for (let i = 0; i < RUNS; i++) {
    before();
    as.push(a());
    before();
    bs.push(b());
  }
  return [medianOf(as), medianOf(bs)];
}

/** `goal`: the share of the other tool's time labsync may take (issue 12: 1.0×); undefined: shown, not judged. */
function rowsOf(what: string, ours: Usage, other: string, raw: Usage, rssLimit?: number, goal: number | undefined = 1.0): void {
  add(what, ours.ms, other, raw.ms, goal);
  add(`${what}, CPU user+sys`, ours.cpuMs, other, raw.cpuMs, goal);
  add(`${what}, peak RSS`, ours.peakMb, other, raw.peakMb, undefined, { unit: 'MB', ...(rssLimit ? { limit: rssLimit } : {}) });
}

export function hugeRows(): void {
  process.stderr.write('bench: the 1M-file tree, local↔local (LABSYNC_BENCH_HUGE=1)\n');
  const dir = hugeTree();
  const at = { cwd: dir, expect: [0] };
  const push = `node ${BIN} data push -q`;
  const rsync = 'rsync -a src/ copy/';
  // The first push hashes both trees and remembers them; the second finds them proved equal.
  sh(push, at);
  sh(push, at);
  sh(rsync, at);
  const [noop, rsyncNoop] = alternating(() => usage(push, at), () => usage(rsync, at));
  rowsOf('no-op push local↔local, 1M × 1–4 KiB', noop, 'rsync -a', rsyncNoop, 400);
  // `check` of the unchanged pair against rsync's dry run (what it would send: size and mtime compared).
  const [check, rsyncDry] = alternating(() => usage(`node ${BIN} check -q`, at), () => usage('rsync -an src/ copy/ >/dev/null', at));
  rowsOf('check (unchanged) local↔local, 1M × 1–4 KiB', check, 'rsync -an', rsyncDry, 400);

  // One changed file: new content and size, its mtime past the racy window; each tool sees one change.
  // After rsync's copy, labsync is run once (untimed) to learn the copy rsync wrote.
  const change = fileChanger(join(dir, 'src', 'd0', 'f0.bin'));
  const ours: Usage[] = [];
  const after: Usage[] = [];
  const raw: Usage[] = [];
  for (let i = 0; i < RUNS; i++) {
    change();
    ours.push(usage(push, at));
    // The next run compares the file just written once more (it was too fresh to remember).
    after.push(usage(push, at));
    change();
    raw.push(usage(rsync, at));
    sh(push, at);
  }
  rowsOf('one changed file, push local↔local, 1M × 1–4 KiB', medianOf(ours), 'rsync -a', medianOf(raw), 400);
  // No goal of its own: shown beside rsync's no-op for scale.
  rowsOf('the run after it, 1M × 1–4 KiB', medianOf(after), 'rsync -a (no-op)', rsyncNoop, 400, undefined);
}
