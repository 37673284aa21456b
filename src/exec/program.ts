// Which binary a tool name starts. LABSYNC_RCLONE picks one rclone among several (Debian's 1.60 and a
// current one side by side); everything else is found on PATH under its own name.
import { isAbsolute, resolve } from 'node:path';

/** Tools whose binary an environment variable may name: LABSYNC_<TOOL>. */
const OVERRIDABLE = new Set(['rclone']);

export function programOf(tool: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!OVERRIDABLE.has(tool)) return tool;
  const chosen = env[`LABSYNC_${tool.toUpperCase()}`]?.trim();
  if (!chosen) return tool;
  // A relative path is taken from labsync's own folder, not each command's cwd (the pair's root).
  return chosen.includes('/') && !isAbsolute(chosen) ? resolve(chosen) : chosen;
}
