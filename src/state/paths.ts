import { join } from 'node:path';
import { STATE_DIR_NAME } from './own-folder.js';

/** Everything labsync writes for a manifest lives under its folder's `.labsync/`. */
export const stateDir = (root: string): string => join(root, STATE_DIR_NAME);
export const locksDir = (root: string): string => join(stateDir(root), 'locks');
export const stateFile = (root: string): string => join(stateDir(root), 'state.json');
export const logsDir = (root: string): string => join(stateDir(root), 'logs');
export const cacheDir = (root: string): string => join(stateDir(root), 'cache');
export const receiptsDir = (root: string): string => join(stateDir(root), 'receipts');
