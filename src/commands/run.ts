// code|data|models push|pull|sync|status, and sync: select pairs, run them, report.
import { NOT_STARTED, stoppedBefore } from '../engine/run-pair.js';
import { selectPairs } from '../engine/select.js';
import { runPairs } from '../engine/run.js';
import { exitCodeFor, InterruptedError, UsageError, type ExitCode } from '../errors.js';
import type { Action, Category } from '../types.js';
import { parseShard, shardFromEnv, type Shard } from '../engine/shard.js';
import type { ResolvedPair } from '../types.js';
import type { Emit } from '../engine/events.js';
import type { Redactor } from '../exec/redact.js';
import { describeShardedRun, lastShardedRun, readReceipts, shardedPairs } from '../state/shard-runs.js';
import { endsKey, sameEnds } from '../state/ends.js';
import { mark } from '../util/trace.js';
import { openManifestToConnect, positiveInt, redactor, reporters, seconds, trapSignals, type GlobalOptions } from './context.js';

export const ACTIONS: readonly Action[] = ['push', 'pull', 'sync', 'status'];

export async function runCommand(category: Category | undefined, action: string, names: readonly string[], opts: GlobalOptions & { resync?: boolean; full?: boolean; commit?: string; snapshot?: string; shard?: string }): Promise<ExitCode> {
  if (action !== 'check' && !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown action '${action}' for ${category ?? 'labsync'}; use one of: ${ACTIONS.join(', ')}`);
  }
  if (opts.shard !== undefined && action === 'status') throw new UsageError('--shard applies to push, pull, sync and check; status shows the whole pair');
  const asked = opts.shard === undefined ? undefined : parseShard(opts.shard);
  mark('run command loaded');
  const manifest = openManifestToConnect(opts);
  mark('manifest');
  const pairs = selectPairs(manifest, { ...(category ? { category } : {}), names, ...(opts.tag ? { tag: opts.tag } : {}) });
  // --resync replaces files that differ on the way: one pair at a time by name, never all at once by default.
  const resyncing = pairs.filter((p) => p.mode === 'bisync');
  if (opts.resync && !names.length && resyncing.length > 1) {
    throw new UsageError(`--resync rebuilds a bisync pair's listings and on the way replaces files that differ: name the pairs to resync (${resyncing.map((p) => p.name).join(', ')})`, `labsync sync ${resyncing[0]?.name} --resync`);
  }
  const shards = action === 'status' ? new Map() : shardsFor(pairs, asked, process.env);
  const redact = redactor();
  const { emit, close } = await reporters(opts, manifest.root, redact);
  mark('reporters');
  const controller = new AbortController();
  const untrap = trapSignals(controller, () => emit({ kind: 'warning', message: 'interrupted: stopping running transfers (press Ctrl-C again to kill them now)' }));
  try {
    if (action === 'check') await sayShardedRuns(manifest.root, pairs, emit, redact);
    const result = await runPairs(
      {
        command: [category, action].filter(Boolean).join(' '),
        action: action as Action,
        root: manifest.root,
        pairs,
        everyPair: manifest.pairs,
        concurrency: positiveInt(opts.concurrency, '--concurrency') ?? manifest.concurrency,
        dryRun: Boolean(opts.dryRun),
        verify: opts.verify !== false,
        waitMs: seconds(opts.wait, '--wait'),
        tty: Boolean(process.stdout.isTTY),
        verbose: Boolean(opts.verbose),
        resync: Boolean(opts.resync),
        full: Boolean(opts.full),
        ...(opts.commit ? { commitMessage: opts.commit } : {}),
        ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
        ...(shards.size ? { shards } : {}),
      },
      emit,
      redact,
      controller.signal,
    );
    return exitCodeFor(result.pairs.map((p) => p.status), stoppedBefore(result.pairs) ? new InterruptedError(NOT_STARTED) : undefined);
  } finally {
    untrap();
    close();
    mark('reporters closed');
  }
}

/** Each pair's slice: `--shard` for every selected pair, else from the environment for pairs with shards: (shard.ts). */
export function shardsFor(pairs: readonly ResolvedPair[], asked: Shard | undefined, env: NodeJS.ProcessEnv): Map<string, Shard> {
  const out = new Map<string, Shard>();
  for (const p of pairs) {
    if (asked && p.shards !== undefined && p.shards !== asked.count) {
      throw new UsageError(`--shard ${asked.index}/${asked.count} splits ${p.category}.${p.name} into ${asked.count}, but the manifest says shards: ${p.shards}; every worker must use the same N`);
    }
    let s: Shard | undefined;
    try {
      s = asked ?? shardFromEnv(env, p.shards);
    } catch (error) {
      throw new UsageError(`${p.category}.${p.name}: ${(error as Error).message}`);
    }
    if (s) out.set(p.name, s);
  }
  return out;
}

/** `check` also says when a split pair's last run is not whole: the comparison shows drift, this names the shards to rerun. */
async function sayShardedRuns(root: string, pairs: readonly ResolvedPair[], emit: Emit, redact: Redactor): Promise<void> {
  const split = await shardedPairs(root).catch(() => new Set<string>());
  const mine = new Set(pairs.map((p) => p.name).filter((n) => split.has(n)));
  const receipts = mine.size ? await readReceipts(root, mine).catch(() => []) : [];
  for (const p of pairs) {
    // Only runs of the ends the pair has now (a remote edited since: its old shards are no one's to rerun).
    const ends = endsKey(p, redact);
    const s = lastShardedRun(receipts.filter((r) => sameEnds(r, ends)), p.name);
    if (s && !s.complete) emit({ kind: 'warning', pair: p.name, message: `the last split run (${s.run.slice(0, 12)}) is ${describeShardedRun(s)}; rerun those with --shard K/${s.count}` });
  }
}
