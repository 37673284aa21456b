// A pair's local tree as labsync reads it: where its caches live and what it leaves out. Its own
// module so that the verifier (compare-pair.ts), the listings and the receipt all import it from below.
import { ownExcludes } from '../adapters/own-excludes.js';
import { makeRedactor } from '../exec/redact.js';
import { endsKey } from '../state/ends.js';
import { cacheDir as stateCacheDir } from '../state/paths.js';
import type { ResolvedPair } from '../types.js';
import { walkTree } from '../verify/hash-tree.js';

export const cacheDir = (pair: ResolvedPair): string => stateCacheDir(pair.root);

/**
 * Excludes as every tool applies them, plus labsync's own folders at the top of a tree and rsync's
 * partials in any folder (its --partial-dir is relative: an interrupted file in sub/ leaves sub/.rsync-partial/,
 * which rsync protects from --delete; counted as data, a snapshot whose file was deleted since stayed in drift).
 */
export const treeExcludes = (pair: ResolvedPair): string[] => [...pair.exclude, ...ownExcludes(pair), pair.tool === 'rsync' ? '.rsync-partial/' : '/.rsync-partial/'];

/** The pair's local files (for counting a destination the tool cannot count). */
export const localFiles = (pair: ResolvedPair) => walkTree(pair.local, treeExcludes(pair));

/** The pair's two ends, as a record kept beside its caches names them: a pair pointed elsewhere since is another pair's record. */
export const pairEnds = (pair: Pick<ResolvedPair, 'root' | 'local' | 'remote' | 'snapshotOf'>): string => endsKey({ root: pair.root, local: pair.local, remote: pair.snapshotOf ?? pair.remote }, makeRedactor(process.env));

/**
 * Whether a record beside the caches (`of`) was made for this pair: its ends key, or a form builds
 * before it wrote (the local folder and the remote's words; a v2 key), so an upgrade re-reads nothing.
 */
export const ownRecord = (of: unknown, pair: Pick<ResolvedPair, 'root' | 'local' | 'remote' | 'snapshotOf' | 'remoteLabel'>): boolean =>
  of === pairEnds(pair) || of === `${pair.local}\0${pair.remoteLabel}` || (typeof of === 'string' && of.startsWith('v2:'));
