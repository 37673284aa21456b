import type { Emit, RunEvent } from '../engine/events.js';

/** Every event kind must be handled: a new kind does not compile until each reporter says what it does. */
export type Handlers = { readonly [K in RunEvent['kind']]: (event: Extract<RunEvent, { kind: K }>) => void };

export function toEmit(handlers: Handlers): Emit {
  return (event) => (handlers[event.kind] as (e: RunEvent) => void)(event);
}

export function fanOut(...emits: readonly Emit[]): Emit {
  return (event) => {
    for (const emit of emits) emit(event);
  };
}

export interface Output {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};
