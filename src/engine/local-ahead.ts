// The local side of a first push read ahead: see readWhileWaiting.
import { mark } from '../util/trace.js';
import type { Listed, Side } from './sides.js';

/**
 * A first push's local listing (50k files: ~65 ms of parsing) and its hash cache, read while the host's
 * listing is still on its way (its login is the run's longest wait) rather than after it, when the
 * plan asks. Not when the host answered first: the plan then reads them as soon as this would.
 */
export async function readWhileWaiting(here: Promise<Side>, there: Promise<Listed>): Promise<void> {
  let answered = false;
  void there.then(() => (answered = true), () => (answered = true));
  const side = await here.catch(() => undefined);
  // A folder with symlinks is not planned this way (the tool's own preview runs, and no summary is ever
  // kept for it): reading ahead would be thrown away on every run.
  if (!side || side.missing || answered || (side.links ?? 0) > 0) return;
  try {
    void side.paths;
    void side.cache;
    mark('local listing read while the host lists');
  } catch {
    // The plan reads them again and says what failed.
  }
}
