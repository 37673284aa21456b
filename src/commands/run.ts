// code|data|models push|pull|sync|status, and sync: select pairs, run them, report.
import { selectPairs } from '../engine/select.js';
import { runPairs } from '../engine/run.js';
import { exitCodeFor, UsageError, type ExitCode } from '../errors.js';
import type { Action, Category } from '../types.js';
import { openManifest, positiveInt, redactor, reporters, seconds, trapSignals, type GlobalOptions } from './context.js';

export const ACTIONS: readonly Action[] = ['push', 'pull', 'sync', 'status'];

export async function runCommand(category: Category | undefined, action: string, names: readonly string[], opts: GlobalOptions & { resync?: boolean; full?: boolean; commit?: string; snapshot?: string }): Promise<ExitCode> {
  if (action !== 'check' && !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown action '${action}' for ${category ?? 'labsync'}; use one of: ${ACTIONS.join(', ')}`);
  }
  const manifest = openManifest(opts);
  const pairs = selectPairs(manifest, { ...(category ? { category } : {}), names, ...(opts.tag ? { tag: opts.tag } : {}) });
  const redact = redactor();
  const { emit, close } = await reporters(opts, manifest.root, redact);
  const controller = new AbortController();
  const untrap = trapSignals(controller, () => emit({ kind: 'warning', message: 'interrupted: stopping running transfers (press Ctrl-C again to kill them now)' }));
  try {
    const result = await runPairs(
      {
        command: [category, action].filter(Boolean).join(' '),
        action: action as Action,
        root: manifest.root,
        pairs,
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
      },
      emit,
      redact,
      controller.signal,
    );
    return exitCodeFor(result.pairs.map((p) => p.status));
  } finally {
    untrap();
    close();
  }
}
