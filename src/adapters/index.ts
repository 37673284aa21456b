import type { ToolName } from '../types.js';
import { aws } from './aws/index.js';
import { dvcAdapter } from './dvc/index.js';
import { gitAdapter } from './git/index.js';
import { hf } from './hf/index.js';
import { mlflow } from './mlflow/index.js';
import { rclone } from './rclone/index.js';
import { rsync } from './rsync/index.js';
import type { Adapter } from './types.js';

// Typed registry: a tool added to ToolName without an adapter here fails to compile.
export const adapters = { rsync, rclone, aws, git: gitAdapter, dvc: dvcAdapter, mlflow, hf } satisfies Record<ToolName, Adapter>;

export function adapterFor(tool: ToolName): Adapter {
  return adapters[tool];
}
