// Pure: a pair → the client invocations that carry it out. The client is labsync's own REST client
// (dist/mlflow-client.js) started with the node running labsync: no Python on the client side.
import { fileURLToPath } from 'node:url';
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { Command } from '../types.js';

export type MlflowEndpoint = Extract<Endpoint, { type: 'mlflow' }>;

/** Beside the bundle's chunks in dist/. */
export const CLIENT = fileURLToPath(new URL('./mlflow-client.js', import.meta.url));

export function endpointOf(pair: ResolvedPair): MlflowEndpoint {
  if (pair.remote.type !== 'mlflow') throw new Error(`pair ${pair.name} has no mlflow remote`);
  return pair.remote;
}

/** Which version a side means: a push compares with the newest; a pull reads version, alias or the newest. */
export function pickOf(pair: ResolvedPair, direction: string): Record<string, unknown> {
  if (direction === 'push') return { latest: true, ...(pair.alias !== undefined ? { alias: pair.alias } : {}) };
  return { ...(pair.version !== undefined ? { version: pair.version } : {}), ...(pair.alias !== undefined ? { alias: pair.alias } : {}) };
}

export function client(pair: ResolvedPair, op: 'list' | 'full' | 'push' | 'pull' | 'alias', args: Record<string, unknown>, label: string, mutates: boolean, input?: string): Command {
  const r = endpointOf(pair);
  return {
    tool: process.execPath,
    args: [CLIENT, op, JSON.stringify({ model: r.model, ...args })],
    cwd: pair.root,
    // The URI rides in the environment, as for the mlflow client; a password in it is redacted where shown.
    env: { MLFLOW_TRACKING_URI: r.trackingUri },
    mutates,
    label,
    pair: pair.name,
    ...(input !== undefined ? { input } : {}),
  };
}

export const describeVersion = (pair: ResolvedPair, direction: string): string =>
  direction === 'push' ? 'the newest version' : pair.version !== undefined ? `version ${pair.version}` : pair.alias ? `alias @${pair.alias}` : 'the newest version';
