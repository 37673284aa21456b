// --json: one document on stdout when the run ends (SPEC §5); anything human goes to stderr.
import { redactDeep, type Redactor } from '../exec/redact.js';
import type { Handlers, Output } from './handlers.js';
import { heartbeat, stamp } from './heartbeat.js';

export function jsonReporter(output: Output, redact: Redactor, heartbeatMs = 60_000): Handlers {
  // The document waits for the end; meanwhile CI still hears, on stderr, that the run is alive.
  const beat = heartbeat((text) => output.err(`${stamp()} ${redact(text)}`), heartbeatMs);
  return {
    run_start: () => beat.start(),
    pair_start: (e) => beat.started(e.pair.name),
    pair_step: (e) => beat.step(e.pair, e.step),
    pair_progress: (e) => beat.progress(e.pair, e.progress),
    pair_end: (e) => beat.ended(e.result.name),
    pair_retry: (e) => output.err(`${e.pair}: attempt ${e.attempt} failed (${e.reason}); retrying`),
    warning: (e) => output.err(`warning: ${e.pair ? `${e.pair}: ` : ''}${e.message}`),
    run_end: (e) => {
      beat.stop();
      output.out(JSON.stringify(redactDeep(e.result, redact), null, 2));
    },
  };
}
