// --json: one document on stdout when the run ends (SPEC §5); anything human goes to stderr.
import { redactDeep, type Redactor } from '../exec/redact.js';
import type { Handlers, Output } from './handlers.js';

export function jsonReporter(output: Output, redact: Redactor): Handlers {
  const none = (): void => undefined;
  return {
    run_start: none, pair_start: none, pair_step: none, pair_progress: none, pair_end: none,
    pair_retry: (e) => output.err(`${e.pair}: attempt ${e.attempt} failed (${e.reason}); retrying`),
    warning: (e) => output.err(`warning: ${e.pair ? `${e.pair}: ` : ''}${e.message}`),
    run_end: (e) => output.out(JSON.stringify(redactDeep(e.result, redact), null, 2)),
  };
}
