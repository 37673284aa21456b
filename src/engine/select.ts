import { UsageError } from '../errors.js';
import type { Category, Manifest, ResolvedPair } from '../types.js';

export interface Selection {
  readonly category?: Category;
  readonly names: readonly string[];
  readonly tag?: string;
}

/** The pairs a command runs: by category, names and --tag, in manifest order. */
export function selectPairs(manifest: Manifest, selection: Selection): ResolvedPair[] {
  const pool = selection.category ? manifest.pairs.filter((p) => p.category === selection.category) : manifest.pairs;
  const unknown = selection.names.filter((n) => !pool.some((p) => p.name === n));
  if (unknown.length) {
    const where = selection.category ? `${selection.category} pairs` : 'pairs';
    const known = pool.map((p) => p.name);
    throw new UsageError(
      `unknown ${unknown.length > 1 ? 'names' : 'name'} ${unknown.map((n) => `'${n}'`).join(', ')}; ${where} in the manifest: ${known.length ? known.join(', ') : '(none)'}`,
    );
  }
  // A tag no pair carries is a typo, not an empty selection: a cron line with one did nothing, exit 0.
  if (selection.tag && !manifest.pairs.some((p) => p.tags.includes(selection.tag as string))) {
    const tags = [...new Set(manifest.pairs.flatMap((p) => p.tags))].sort();
    throw new UsageError(`no pair has the tag '${selection.tag}'; tags in the manifest: ${tags.length ? tags.join(', ') : '(none)'}`);
  }
  const chosen = pool.filter(
    (p) => (!selection.names.length || selection.names.includes(p.name)) && (!selection.tag || p.tags.includes(selection.tag)),
  );
  // The tag is there, but not among the pairs the category or names pick: as much a typo (`data push
  // --tag hourly` with only a models pair hourly ran nothing, exit 0; a health check passed on it).
  if (selection.tag && !chosen.length) {
    const narrowed = `${selection.category ?? ''}${selection.category ? ' ' : ''}pairs${selection.names.length ? ` named ${selection.names.join(', ')}` : ''}`;
    const carriers = manifest.pairs.filter((p) => p.tags.includes(selection.tag as string)).map((p) => `${p.category}.${p.name}`);
    throw new UsageError(`none of the ${narrowed} has the tag '${selection.tag}'; it is on ${carriers.join(', ')}`);
  }
  return chosen;
}
