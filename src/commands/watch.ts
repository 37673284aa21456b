// `labsync watch [NAME...]`: re-run push pairs when their local files change, debounced; never two runs
// of one pair at once (a change during a run queues one more); Ctrl-C stops watching and any run cleanly.
import { relative, sep } from 'node:path';
import { selectPairs } from '../engine/select.js';
import { runPairs } from '../engine/run.js';
import { UsageError, type ExitCode } from '../errors.js';
import type { ResolvedPair } from '../types.js';
import { compileExcludes } from '../verify/glob.js';
import { openManifest, redactor, reporters, seconds, trapSignals, type GlobalOptions } from './context.js';

const ALWAYS_IGNORED = ['/.labsync/', '/.labsync-backup/', '/.rsync-partial/', '/.git/', '/.dvc/cache/'];

export function debounceMs(text: string | undefined): number {
  return text === undefined ? 5000 : seconds(text, '--debounce');
}

export async function watchCommand(names: readonly string[], opts: GlobalOptions, debounce: string | undefined): Promise<ExitCode> {
  const wait = debounceMs(debounce);
  const manifest = openManifest(opts);
  const pairs = selectPairs(manifest, { names, ...(opts.tag ? { tag: opts.tag } : {}) }).filter((p) => p.mode === 'push');
  if (!pairs.length) throw new UsageError('nothing to watch: watch re-runs pairs whose mode is push, and none is selected');
  const { watch } = await import('chokidar');
  const redact = redactor();
  const { emit, close } = await reporters(opts, manifest.root, redact);
  const controller = new AbortController();
  let interrupted = false;
  const untrap = trapSignals(controller, () => emit({ kind: 'warning', message: 'stopping: finishing nothing new, stopping any running transfer' }));

  const state = new Map<string, { timer?: NodeJS.Timeout; running: boolean; again: boolean }>();
  const runOnce = async (pair: ResolvedPair): Promise<void> => {
    const s = state.get(pair.name) as { running: boolean; again: boolean };
    if (s.running) return void (s.again = true);
    s.running = true;
    const result = await runPairs({
      command: `watch ${pair.name}`, action: 'push', root: manifest.root, pairs: [pair], concurrency: 1, dryRun: Boolean(opts.dryRun),
      verify: opts.verify !== false, waitMs: 0, tty: Boolean(process.stdout.isTTY), verbose: Boolean(opts.verbose), resync: false, full: false,
    }, emit, redact, controller.signal);
    if (result.pairs.some((p) => p.status === 'interrupted')) interrupted = true;
    s.running = false;
    // A failed run is simply tried again on the next change; a change during the run gets its own run.
    if (s.again && !controller.signal.aborted) {
      s.again = false;
      schedule(pair);
    }
  };
  const schedule = (pair: ResolvedPair): void => {
    const s = state.get(pair.name);
    if (!s || controller.signal.aborted) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => void runOnce(pair), wait);
  };

  const watchers = pairs.map((pair) => {
    state.set(pair.name, { running: false, again: false });
    const matcher = compileExcludes([...pair.exclude, ...ALWAYS_IGNORED]);
    const watcher = watch(pair.local, {
      ignoreInitial: true,
      ignored: (path, stats) => {
        const rel = relative(pair.local, path).split(sep).join('/');
        return rel !== '' && !rel.startsWith('..') && matcher.excludes(rel, stats?.isDirectory() ?? false);
      },
    });
    watcher.on('all', () => schedule(pair));
    watcher.on('error', (error) => emit({ kind: 'warning', pair: pair.name, message: `watching ${pair.local}: ${(error as Error).message}` }));
    return watcher;
  });
  process.stderr.write(`watching ${pairs.map((p) => `${p.name} (${p.local})`).join(', ')}; changes are pushed ${wait / 1000}s after they settle. Ctrl-C stops.\n`);

  await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  for (const s of state.values()) if (s.timer) clearTimeout(s.timer);
  await Promise.all(watchers.map((w) => w.close()));
  while ([...state.values()].some((s) => s.running)) await new Promise((r) => setTimeout(r, 50));
  untrap();
  close();
  return interrupted ? 130 : 0;
}
