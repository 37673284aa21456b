// npm run bench: labsync against the tools a user would reach for instead, on the same trees, in one run.
// Prints medians and ratios (labsync ÷ the other tool; below 1 is faster) and each goal from issues 5 and 12.
// LABSYNC_BENCH_ONLY=local|sync|watch|huge runs one group of rows (comma-separated for several);
// LABSYNC_BENCH_HUGE=1 adds the 1M-file rows (bench/huge.ts) to the sync and watch groups.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { add, BIN, makeTree, ROOT, RUNS, sh, table, time } from './measure.js';
import { hugeRows } from './huge.js';
import { syncRows } from './sync.js';
import { watchRows } from './watch.js';

const only = process.env.LABSYNC_BENCH_ONLY?.split(',').map((s) => s.trim());
const wanted = (group: string): boolean => !only || only.includes(group);

function localRows(): void {
  const t20 = makeTree('20k-50KiB', 20_000, 40 * 1024, 60 * 1024);
  const t100 = makeTree('100k-1-4KiB', 100_000, 1024, 4096);
  const labsync = `node ${BIN}`;
  for (const [label, dir] of [['20k × ~50 KiB', t20], ['100k × 1–4 KiB', t100]] as const) {
    // The trees sit beside a labsync.yaml, so `sums` remembers hashes there: cleared before each timed
    // run, every file is read and hashed, as sha256sum does; the re-run row shows what remembering buys.
    const clearCache = (): void => rmSync(join(dir, '.labsync', 'cache'), { recursive: true, force: true });
    const at = { cwd: dir };
    const sha256sum = time('find src -type f -print0 | xargs -0 sha256sum >/dev/null', RUNS, undefined, at);
    add(`sums sha256, ${label}`, time(`${labsync} sums src >/dev/null`, RUNS, clearCache, at), 'find \\| xargs sha256sum', sha256sum, 0.3);
    add(`sums md5, ${label}`, time(`${labsync} sums --algo md5 src >/dev/null`, RUNS, clearCache, at), 'find \\| xargs md5sum', time('find src -type f -print0 | xargs -0 md5sum >/dev/null', RUNS, undefined, at), 0.65);
    sh(`${labsync} sums src >/dev/null`, at);
    add(`sums sha256 re-run (hashes remembered), ${label}`, time(`${labsync} sums src >/dev/null`, RUNS, undefined, at), 'find \\| xargs sha256sum', sha256sum, undefined);
    add(`cold check local↔local, ${label}`, time(`${labsync} check -q`, RUNS, clearCache, at), 'rclone check', time('rclone check -q src copy', RUNS, undefined, at), label.startsWith('20k') ? 0.75 : 0.5);
    // Twice: the first run after a cold one sums the trees up, the next recognise them (what cron sees).
    sh(`${labsync} check -q`, at);
    sh(`${labsync} check -q`, at);
    add(`warm re-check, ${label}`, time(`${labsync} check -q`, RUNS, undefined, at), 'rsync -rn', time('rsync -rn src/ copy/ >/dev/null', RUNS, undefined, at), 2.0);
  }
  const nodeStart = time('node -e 0', 5);
  add('labsync --version', time(`${labsync} --version >/dev/null`, 5), 'node -e 0', nodeStart, undefined, { limit: 80 });
  add('labsync --help', time(`${labsync} --help >/dev/null`, 5), 'node -e 0', nodeStart, undefined, { limit: 80 });
}

mkdirSync(ROOT, { recursive: true });
process.stderr.write(`bench: trees under ${ROOT} (made once, reused)\n`);
if (wanted('local')) localRows();
if (wanted('sync')) await syncRows();
if (process.env.LABSYNC_BENCH_HUGE === '1' && (wanted('sync') || wanted('huge'))) hugeRows();
if (wanted('watch')) await watchRows();
process.stdout.write(table());
