import type { Direction, ResolvedPair } from '../types.js';
import type { Adapter, Lister } from './types.js';

/** The pair's remote as a store's entries (aws, rclone, hf, mlflow), where its tool lists it so: labsync plans from them (engine/plan-pair.ts). */
export function storeLister(adapter: Adapter, pair: ResolvedPair, direction: Direction): Lister | undefined {
  const l = adapter.files?.list(pair, direction);
  return l && 'remote' in l ? l : undefined;
}
