// A value built on first use. zod schemas are built this way: building one at module load cost a run
// that never parses (a no-op push over ssh loads every adapter) ~15-20 ms of CPU, mostly zod's own
// first-call work (measured with LABSYNC_TRACE=1's CPU column and node --cpu-prof).
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
