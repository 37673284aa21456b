// Where `full_check:` means something: a pair whose verify can read every file again (bit rot).
// git and dvc compare what their own stores name by content (commits; dvc's cached md5s against the
// remote's): labsync has nothing to re-read there, so the key would be silently ignored.
import type { ToolName } from '../types.js';

const NONE: Partial<Record<ToolName, string>> = {
  git: 'git pairs compare commits, which git names by their content; there is nothing for labsync to re-read (`git fsck` checks a repository\'s objects)',
  dvc: 'dvc pairs compare through dvc status, which trusts dvc\'s own cache of hashes; labsync has no full re-read for them',
};

/** Why `full_check` does nothing on a pair of this tool; undefined: it applies. */
export function whyNoFullCheck(tool: ToolName): string | undefined {
  return NONE[tool];
}
