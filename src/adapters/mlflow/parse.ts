// Pure: the client's JSON answers → entries and records. Checked at the boundary: a document of
// another shape is an error naming what is wrong, never a silently empty listing.
import type { Entry } from '../../verify/compare.js';

export interface Listed {
  readonly version: number | null;
  /** A push's alias: the version it names, null when it is not set; undefined when not asked. */
  readonly aliasAt?: number | null;
  readonly sums: boolean;
  readonly files: readonly Entry[];
}

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const value = JSON.parse(line) as unknown;
  if (!value || typeof value !== 'object') throw new Error('the client answered no JSON object');
  return value as Record<string, unknown>;
}

function files(value: unknown): Entry[] {
  if (!Array.isArray(value)) throw new Error('the client listed no files array');
  return value.map((f: { path?: unknown; size?: unknown; sha256?: unknown }) => {
    if (typeof f.path !== 'string' || typeof f.size !== 'number') throw new Error(`a listed file has no path or size: ${JSON.stringify(f)}`);
    return { path: f.path, size: f.size, ...(typeof f.sha256 === 'string' ? { sha256: f.sha256 } : {}) };
  });
}

export function parseListed(stdout: string): Listed {
  const v = lastJson(stdout);
  return {
    version: typeof v.version === 'number' ? v.version : null, sums: v.sums === true, files: files(v.files),
    ...(v.aliasAt === null || typeof v.aliasAt === 'number' ? { aliasAt: v.aliasAt } : {}),
  };
}

/** What a receipt records of a run: the model, the version pushed or pulled, the alias. */
export function parseRecord(stdout: string): { model: string; version: number | null; alias: string | null } | undefined {
  try {
    const v = lastJson(stdout);
    if (typeof v.model !== 'string') return undefined;
    return { model: v.model, version: typeof v.version === 'number' ? v.version : null, alias: typeof v.alias === 'string' ? v.alias : null };
  } catch {
    return undefined;
  }
}
