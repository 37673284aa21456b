// pino NDJSON: every run event, redacted, to --log-file or .labsync/logs/labsync-YYYY-MM-DD.log.
import { dirname, join } from 'node:path';
import pino from 'pino';
import type { Emit } from '../engine/events.js';
import { redactDeep, type Redactor } from '../exec/redact.js';
import { makeFolderSync } from '../state/own-folder.js';
import { logsDir } from '../state/paths.js';

export function defaultLogFile(root: string, date = new Date()): string {
  return join(logsDir(root), `labsync-${date.toISOString().slice(0, 10)}.log`);
}

export function logSink(file: string, redact: Redactor, verbose: boolean): { emit: Emit; flush: () => void } {
  makeFolderSync(dirname(file));
  const destination = pino.destination({ dest: file, sync: true });
  const logger = pino({ level: verbose ? 'debug' : 'info', base: { pid: process.pid } }, destination);
  return {
    emit: (event) => {
      const level = event.kind === 'pair_progress' ? 'debug' : event.kind === 'warning' ? 'warn' : 'info';
      const clean = redactDeep(event, redact);
      if (event.kind === 'pair_end' && event.result.error) logger.error(clean, `${event.result.name}: ${event.result.status}`);
      else logger[level](clean, event.kind);
    },
    flush: () => destination.flushSync(),
  };
}
