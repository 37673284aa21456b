// The files a run would send, replace and delete, as lines for people (a dry run, `status`). One
// function over plain lists of paths, so anything that knows those lists (a preview's Changes today,
// a plan tomorrow) prints them the same way.
import type { Changes } from '../adapters/types.js';

export interface FileLists {
  /** New at the destination. */
  readonly send: readonly string[];
  /** Already at the destination, overwritten. */
  readonly replace: readonly string[];
  readonly delete: readonly string[];
}

export type FileVerb = keyof FileLists;

/** Without -v, each list stops after this many names. */
export const LIST_LIMIT = 20;

const VERBS: readonly FileVerb[] = ['send', 'replace', 'delete'];

/** send = transfer minus replace; where a tool cannot tell a replacement from a new file, all are sends. */
export function fileListsOf(changes: Changes): FileLists {
  const replacing = new Set(changes.replace ?? []);
  return {
    send: changes.transfer.filter((p) => !replacing.has(p)),
    replace: changes.transfer.filter((p) => replacing.has(p)),
    delete: changes.delete,
  };
}

// C0 controls, DEL and C1 controls: a newline could forge an output line, an ESC a terminal sequence.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A name as one safe line, the coreutils way (sha256sum, labsync sums): a name holding a control
 * character is marked with a leading "\" and its backslashes and controls escaped (\n, \r, \t, \xHH).
 */
export function safeName(name: string): string {
  if (!CONTROL.test(name)) return name;
  const escaped = name.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `\\${escaped}`;
}

export interface FileLine { readonly verb: FileVerb; readonly text: string }

/**
 * "  send     a.csv", "  replace  b.csv", "  delete   c.csv", each list cut after `limit` names with
 * "  … and N more to send" (Infinity: every name, for -v), by name. Deletions are last, like rsync's `*deleting`.
 */
export function fileLines(lists: FileLists, limit: number = LIST_LIMIT): FileLine[] {
  const lines: FileLine[] = [];
  for (const verb of VERBS) {
    // Sorted: rclone and aws report in the order their workers finished, a reader scans by name.
    const paths = [...lists[verb]].sort();
    const shown = paths.slice(0, limit);
    for (const p of shown) lines.push({ verb, text: `  ${verb.padEnd(7)}  ${safeName(p)}` });
    if (shown.length < paths.length) lines.push({ verb, text: `  … and ${paths.length - shown.length} more to ${verb}` });
  }
  return lines;
}
