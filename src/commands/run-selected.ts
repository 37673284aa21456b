// What `plan --save` and `apply` share with a normal run: reporters, signals, the pool, the exit code.
import { runPairs, type RunRequest } from '../engine/run.js';
import type { Emit, RunResult } from '../engine/events.js';
import type { Redactor } from '../exec/redact.js';
import type { Manifest } from '../types.js';
import { positiveInt, reporters, seconds, trapSignals, type GlobalOptions } from './context.js';

type Asked = Pick<RunRequest, 'command' | 'action' | 'pairs' | 'dryRun'> & Partial<Pick<RunRequest, 'seams' | 'appliedPlan'>>;

export async function runSelected(manifest: Manifest, opts: GlobalOptions, redact: Redactor, asked: Asked, before?: (emit: Emit) => void): Promise<RunResult> {
  const { emit, close } = await reporters(opts, manifest.root, redact);
  const controller = new AbortController();
  const untrap = trapSignals(controller, () => emit({ kind: 'warning', message: 'interrupted: stopping running transfers (press Ctrl-C again to kill them now)' }));
  try {
    before?.(emit);
    return await runPairs(
      {
        ...asked,
        root: manifest.root,
        everyPair: manifest.pairs,
        concurrency: positiveInt(opts.concurrency, '--concurrency') ?? manifest.concurrency,
        verify: opts.verify !== false,
        waitMs: seconds(opts.wait, '--wait'),
        tty: Boolean(process.stdout.isTTY),
        verbose: Boolean(opts.verbose),
        resync: false,
        full: false,
      },
      emit,
      redact,
      controller.signal,
    );
  } finally {
    untrap();
    close();
  }
}
