// What no tool sends, deletes or verifies as data: labsync's own folders. Said once here for rsync, rclone,
// aws and the verifier's tree walks, in the rsync pattern form they all read (a leading "/" anchors at the
// top of the transferred tree, a trailing "/" means a folder).
import { isAbsolute, relative, sep } from 'node:path';
import { STATE_DIR_NAME } from '../state/own-folder.js';
import type { ResolvedPair } from '../types.js';
import { REMOTE_LOCK_NAME } from '../remote-lock/holder.js';

/** Kept replaced and deleted files, at the top of a destination (rsync --backup-dir, rclone --backup-dir, aws). */
export const BACKUP_DIR = '.labsync-backup';

/** The backup folder, and `.labsync/` where the pair's tree holds the manifest's folder (`local: .`). */
export function ownExcludes(pair: Pick<ResolvedPair, 'local' | 'root'> & { readonly tool?: ResolvedPair['tool'] }): string[] {
  const rel = relative(pair.local, pair.root);
  const inside = rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  // The folder's path is a pattern here: `exp[1]/` would match exp1/ only (review 43), so a path with
  // * ? [ has each escaped (a pattern with none of them is compared as it is, backslashes included).
  const folder = rel.split(sep).join('/');
  const literal = /[*?[]/.test(folder) ? folder.replace(/[*?[\\]/g, '\\$&') : folder;
  const state = inside ? [`/${rel ? `${literal}/` : ''}${STATE_DIR_NAME}/`] : [];
  // hf download keeps its own bookkeeping in <local-dir>/.cache/huggingface/; .gitattributes at a
  // repo's root is the Hub's (which paths go to LFS), never pushed from or pulled into the folder.
  // huggingface_hub itself skips .git and .cache/huggingface at any depth (DEFAULT_IGNORE_PATTERNS):
  // planned anyway, such files were never uploaded (drift on every push) and a mirror pull deleted a
  // clone's .git (a review).
  // The Hub refuses any commit path with a .git or .cache segment (FORBIDDEN_FOLDERS): a planned
  // tokenizer/.cache/x failed every push of the pair. Neither is data here.
  const hf = pair.tool === 'hf' ? ['.cache', '/.gitattributes', '.git'] : [];
  // An mlflow pull writes each file beside its place first: one left by a killed pull is never data.
  const mlflow = pair.tool === 'mlflow' ? ['.labsync-part-*'] : [];
  // The remote lock (remote-lock/holder.ts): an object on S3, a folder elsewhere; never data, never deleted by a mirror.
  return [`/${BACKUP_DIR}/`, `/${REMOTE_LOCK_NAME}`, ...state, ...hf, ...mlflow];
}
