// Pure: dvc's --json status output → what differs. Fixtures: fixtures/tool-output/dvc-3.67.1/
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { lazy } from '../../util/lazy.js';
import type { VerifyReport } from '../types.js';

const Cloud = lazy(() => z.record(z.string(), z.string()));
const Workspace = lazy(() => z.record(z.string(), z.array(z.union([z.string(), z.record(z.string(), z.record(z.string(), z.string()))]))));

function json(text: string): unknown {
  const t = text.trim();
  return t ? JSON.parse(t) : {};
}

/** `dvc status --cloud --json`: "new" is in the local cache only (to push), "deleted"/"missing" on the remote only (to pull). */
export function cloudStatus(stdout: string): { toPush: string[]; toPull: string[] } {
  const entries = Object.entries(Cloud().parse(json(stdout)));
  return {
    toPush: entries.filter(([, s]) => s === 'new' || s === 'modified').map(([p]) => p),
    toPull: entries.filter(([, s]) => s === 'deleted' || s === 'missing').map(([p]) => p),
  };
}

export interface OutState { readonly path: string; readonly state: string }

/** `dvc status --json`: each output whose workspace differs from its .dvc file, with dvc's word for how. */
export function workspaceStates(stdout: string): OutState[] {
  const out: OutState[] = [];
  for (const [, items] of Object.entries(Workspace().parse(json(stdout)))) {
    for (const item of items) {
      if (typeof item === 'string') continue;
      for (const outs of Object.values(item)) for (const [path, state] of Object.entries(outs)) out.push({ path, state });
    }
  }
  return out;
}

/** Local edits not yet recorded with `dvc add` ("modified", "new"): what a pull must not overwrite. */
export function workspaceChanges(stdout: string): string[] {
  return workspaceStates(stdout).filter((s) => s.state === 'modified' || s.state === 'new').map((s) => `${s.path} (${s.state})`);
}

/**
 * Whether .dvc/config.local already holds every wanted setting for the remote: configuring costs a
 * dvc process (~0.4 s of Python) per setting, and a push would otherwise do it three times.
 */
export function alreadyConfigured(configLocal: string, remote: string, wanted: readonly (readonly [string, string])[]): boolean {
  const lines = configLocal.split('\n');
  const start = lines.findIndex((l) => l.trim() === `['remote "${remote}"']`);
  if (start < 0) return false;
  const have = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    if (line.trim().startsWith('[')) break;
    const m = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) have.set(m[1] as string, m[2] as string);
  }
  return wanted.every(([key, value]) => have.get(key) === value);
}

/** Every output whose workspace or cache differs from its .dvc file, any state: what a push must add and send again. */
export function pushPending(stdout: string): string[] {
  return workspaceStates(stdout).map((s) => `${s.path} (${s.state})`);
}

/**
 * Local workspace and cache against the DVC remote. Data absent here ("not in cache", "deleted") is
 * what a pull brings; for a push it is unproven: without the cache dvc cannot expand a folder, and its
 * cloud status then says nothing of what the remote holds (a purged cache read as in sync).
 */
export function verifyReport(workspace: string, cloud: string, direction: 'push' | 'pull' = 'pull'): VerifyReport {
  const c = cloudStatus(cloud);
  const states = workspaceStates(workspace);
  const changed = workspaceChanges(workspace);
  const absent = states.filter((s) => s.state !== 'modified' && s.state !== 'new').map((s) => `${s.path} (${s.state})`);
  const checked = c.toPush.length + c.toPull.length + states.length || 1;
  return direction === 'push' ? { checked, missing: [...c.toPush, ...absent], extra: c.toPull, changed } : { checked, missing: c.toPush, extra: [...c.toPull, ...absent], changed };
}

/**
 * The DVC remotes a .dvc file's outputs name themselves (`outs: - remote: team`): dvc pushes such an
 * output there whatever --remote says, and its cloud status against another remote is empty.
 */
export function ownRemotes(dvcFile: string): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(dvcFile);
  } catch {
    return []; // dvc itself says what is wrong with it
  }
  // outs[].remote only: an import's deps[].repo.remote or a user's meta names no push target.
  const outs = (doc as { outs?: unknown } | null)?.outs;
  if (!Array.isArray(outs)) return [];
  return [...new Set(outs.map((o: { remote?: unknown } | null) => o?.remote).filter((r): r is string => typeof r === 'string' && r !== ''))];
}
