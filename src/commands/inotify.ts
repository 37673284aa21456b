// What inotify's limits mean to a watch: a burst can overflow the kernel's event queue (inotify drops
// events silently through node), and a tree can need more watches than the user may hold.
import { readFileSync } from 'node:fs';

/** Out of inotify watches, with the limit and how to raise it. */
export function outOfWatches(error: Error): Error {
  let limit = '';
  try {
    limit = ` (fs.inotify.max_user_watches is ${readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()})`;
  } catch {
    // not Linux, or hidden
  }
  return new Error(`${error.message}: out of inotify watches, one per folder${limit}; raise the limit with \`sudo sysctl fs.inotify.max_user_watches=1048576\` (and in /etc/sysctl.d/ to keep it)`);
}

/** Events this many within a burst: the kernel's queue may have overflowed (16384 by default), so the tree is looked at again. */
export const BURST_EVENTS = 1024;

/** Counts events; after BURST_EVENTS or more came with no pause of a second, calls `settled` once they pause. */
export function burstWatch(settled: () => void): { count(): void; stop(): void } {
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    count: () => {
      n += 1;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        const big = n >= BURST_EVENTS;
        n = 0;
        if (big) settled();
      }, 1000);
      timer.unref();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}
