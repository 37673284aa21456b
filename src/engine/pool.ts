/**
 * Runs `work` over `items`, at most `limit` at once, never two that `clash` at the same time (a pair
 * whose folder holds another's: a git pair at the repository root and a dvc pair inside it must not
 * change the same tree at once). Results keep the items' order.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, clash: (a: T, b: T) => boolean = () => false): Promise<R[]> {
  const results = new Array<R>(items.length);
  const waiting = items.map((_, i) => i);
  const running = new Set<number>();
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      if (!waiting.length && !running.size) return resolve(results);
      for (let w = 0; w < waiting.length && running.size < Math.max(1, limit); ) {
        const i = waiting[w] as number;
        if ([...running].some((r) => clash(items[r] as T, items[i] as T))) {
          w++;
          continue;
        }
        waiting.splice(w, 1);
        running.add(i);
        work(items[i] as T).then((r) => {
          results[i] = r;
          running.delete(i);
          pump();
        }, reject);
      }
    };
    pump();
  });
}
