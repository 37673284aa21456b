// ${VAR} and ${VAR:-default} in every string of the manifest (SPEC §3).
import type { Path } from './yaml-doc.js';

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g;

export interface MissingVariable { readonly path: Path; readonly name: string }

export function expandString(text: string, env: NodeJS.ProcessEnv, missing: (name: string) => void): string {
  return text.replace(REFERENCE, (match, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name as string];
    // `:-` also replaces an empty value, `-` only an unset one, as in the shell.
    if (op === ':-' && !value) return fallback ?? '';
    if (op === '-' && value === undefined) return fallback ?? '';
    if (value === undefined) {
      missing(name as string);
      return match;
    }
    return value;
  });
}

/** Expands every string in `value`; reports each unset variable with no default. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, path: Path = [], missing: MissingVariable[] = []): { value: unknown; missing: MissingVariable[] } {
  const walk = (v: unknown, p: Path): unknown => {
    if (typeof v === 'string') return expandString(v, env, (name) => missing.push({ path: p, name }));
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...p, i]));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...p, k])]));
    }
    return v;
  };
  return { value: walk(value, path), missing };
}
