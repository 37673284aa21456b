// Not a TTY (cron, CI logs): plain lines, no colour, no spinners, a heartbeat during long transfers.
import { BAD, describeFiles, describeResult, PLAIN_STYLE, summaryTable } from './describe.js';
import type { Handlers, Output } from './handlers.js';
import { heartbeat, stamp } from './heartbeat.js';

export function plainReporter(output: Output, heartbeatMs = 60_000, verbose = false): Handlers {
  const line = (text: string): void => output.out(`${stamp()} ${text}`);
  const beat = heartbeat(line, heartbeatMs);
  return {
    run_start: () => beat.start(),
    pair_start: (e) => {
      beat.started(e.pair.name);
      line(`${e.pair.name}: ${e.pair.action} started (${e.pair.tool})`);
    },
    pair_step: (e) => beat.step(e.pair, e.step),
    pair_progress: (e) => beat.progress(e.pair, e.progress),
    pair_retry: (e) => line(`${e.pair}: attempt ${e.attempt} failed (${e.reason}); retrying in ${(e.delayMs / 1000).toFixed(1)}s`),
    warning: (e) => output.err(`${stamp()} warning: ${e.pair ? `${e.pair}: ` : ''}${e.message}`),
    pair_end: (e) => {
      beat.ended(e.result.name);
      // A Slurm array's logs are one file per task: each line says which shard it was.
      const text = `${e.result.name}${e.result.shard ? ` (shard ${e.result.shard.index}/${e.result.shard.count})` : ''}: ${e.result.status}${describeResult(e.result) ? ` — ${describeResult(e.result)}` : ''}`;
      // The file lines follow their pair's line on the same stream, as one write: never split by another pair's.
      const files = describeFiles(e.result, verbose).map((f) => f.text);
      const print = BAD.has(e.result.status) ? output.err : output.out;
      print([`${stamp()} ${text}`, ...files].join('\n'));
    },
    run_end: (e) => {
      beat.stop();
      output.out(summaryTable(e.result, PLAIN_STYLE));
    },
  };
}

/** -q: nothing but what went wrong. */
export function quietReporter(output: Output): Handlers {
  const none = (): void => undefined;
  return {
    run_start: none, pair_start: none, pair_step: none, pair_progress: none, pair_retry: none, run_end: none,
    warning: (e) => output.err(`warning: ${e.pair ? `${e.pair}: ` : ''}${e.message}`),
    pair_end: (e) => {
      if (BAD.has(e.result.status)) output.err(`${e.result.name}: ${e.result.status} — ${describeResult(e.result)}`);
    },
  };
}
