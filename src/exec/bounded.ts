// A signal that aborts when `outer` does or after `ms`, with a timer held for as long as it is needed.
// Not AbortSignal.any with AbortSignal.timeout: node 20 holds the timeout signal only weakly there, and
// once garbage-collected it never fires (seen: a PUT to a server that never answered waited forever;
// engine/drain-pair.ts met the same with its budget).
export interface Bounded {
  readonly signal: AbortSignal;
  /** Whether the bound (not `outer`) stopped it. */
  timedOut(): boolean;
  /** Clears the timer: call when the work is done, whatever its end. */
  done(): void;
}

export function bounded(outer: AbortSignal, ms: number): Bounded {
  const c = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    c.abort(new DOMException(`no answer in ${ms} ms`, 'TimeoutError'));
  }, ms);
  const onAbort = (): void => c.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: c.signal,
    timedOut: () => expired,
    done: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}
