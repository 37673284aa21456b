import type { ToolName } from '../types.js';
import { aws } from './aws/index.js';
import { gitAdapter } from './git/index.js';
import { rclone } from './rclone/index.js';
import { rsync } from './rsync/index.js';
import type { Adapter } from './types.js';

// Typed registry: adapters land one issue at a time; when all five are here this becomes
// `satisfies Record<ToolName, Adapter>` and a missing one fails to compile.
export const adapters: Partial<Record<ToolName, Adapter>> = { rsync, rclone, aws, git: gitAdapter };

export function adapterFor(tool: ToolName): Adapter | undefined {
  return adapters[tool];
}
