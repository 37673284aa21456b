// Words for results, shared by every human reporter.
import type { Progress } from '../adapters/types.js';
import type { PairResult, RunResult } from '../engine/events.js';
import type { PairStatus } from '../types.js';
import { formatBytes, formatDuration } from '../util/duration.js';
import { fileLines, fileListsOf, LIST_LIMIT, type FileLine } from './file-list.js';

export const BAD: ReadonlySet<PairStatus> = new Set(['failed', 'refused', 'drift', 'locked', 'interrupted', 'partial']);

export function describeProgress(p: Progress): string {
  const parts = [
    p.percent !== undefined ? `${p.percent}%` : undefined,
    p.bytes !== undefined ? formatBytes(p.bytes) : undefined,
    p.files !== undefined ? `${p.files} files` : undefined,
    p.rate,
    p.eta ? `eta ${p.eta}` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

/** "3 to transfer, 1 to delete" */
export function describeChanges(r: PairResult): string {
  if (!r.changes) return '';
  const t = r.changes.transfer.length;
  const d = r.changes.delete.length;
  const u = r.changes.uncommitted?.length ?? 0;
  if (!t && !d && !u) return 'nothing to do';
  return [t ? `${t} to transfer` : '', d ? `${d} to delete` : '', u ? `${u} uncommitted` : ''].filter(Boolean).join(', ');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The table's DETAIL column: what the FILES/BYTES/TIME columns do not say. */
export function describeDetail(r: PairResult): string {
  const detail = describeOutcome(r);
  return r.snapshot ? [detail, `snapshot ${r.snapshot}`].filter(Boolean).join('; ') : detail;
}

function describeOutcome(r: PairResult): string {
  if (r.error) return r.hint ? `${r.error} (hint: ${r.hint})` : r.error;
  const unproven = r.verify?.unproven?.length ? `${r.verify.unproven.length} by size only: content not provable by the store` : '';
  if (r.status === 'ok') return r.verify?.status === 'in_sync' ? `verified (${r.verify.mode}, ${plural(r.verify.checked, 'file')}${describeRead(r)}${unproven ? `; ${unproven}` : ''})` : '';
  if (r.status === 'in_sync' && r.verify?.bytesHashed) return `checked ${plural(r.verify.checked, 'file')}${describeRead(r)}${unproven ? `; ${unproven}` : ''}`;
  if (r.status === 'in_sync' && unproven) return unproven;
  return describeChanges(r);
}

/** How much content the verify read on each side: what a cached check saves is visible here. */
function describeRead(r: PairResult): string {
  const b = r.verify?.bytesHashed;
  if (!b) return '';
  const proven = r.verify?.provenByTransfer;
  const how = r.verify?.proof === 'full' ? ', every byte' : proven ? `; ${proven} written file${proven === 1 ? '' : 's'} proved by rsync's transfer checksum` : '';
  return `; read ${formatBytes(b.local)} here, ${formatBytes(b.remote)} on the remote${how}`;
}

/** What the user most needs to know about one pair, in one line. */
export function describeResult(r: PairResult): string {
  if (r.error) return describeDetail(r);
  switch (r.status) {
    case 'ok':
      return [`${plural(r.files, 'file')}, ${formatBytes(r.bytes)} in ${formatDuration(r.durationMs)}`, describeDetail(r)].filter(Boolean).join(', ');
    case 'planned':
    case 'drift':
    case 'in_sync':
      return describeChanges(r);
    default:
      return '';
  }
}

/**
 * The files behind a result's counts, where a person asked what would happen: a dry run, a
 * `status`, a guard's refusal. The first LIST_LIMIT of each kind, every one with -v.
 */
export function describeFiles(r: PairResult, verbose: boolean): FileLine[] {
  if (!r.changes || !(r.status === 'planned' || r.status === 'refused' || r.action === 'status')) return [];
  return fileLines(fileListsOf(r.changes), verbose ? Infinity : LIST_LIMIT);
}

export interface TableStyle {
  readonly status: (status: PairStatus, text: string) => string;
  readonly dim: (text: string) => string;
}

export const PLAIN_STYLE: TableStyle = { status: (_s, t) => t, dim: (t) => t };

export function summaryTable(result: RunResult, style: TableStyle): string {
  if (!result.pairs.length) return 'no pairs selected';
  const rows = result.pairs.map((r) => [
    `${r.category}.${r.name}`, r.action, r.status, String(r.files), formatBytes(r.bytes), formatDuration(r.durationMs), describeDetail(r),
  ]);
  const head = ['PAIR', 'ACTION', 'STATUS', 'FILES', 'BYTES', 'TIME', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const pad = (cells: string[], statusAt?: PairStatus): string =>
    cells
      .map((c, i) => {
        const text = i === cells.length - 1 ? c : c.padEnd(widths[i] as number);
        return i === 2 && statusAt ? style.status(statusAt, text) : text;
      })
      .join('  ')
      .trimEnd();
  const lines = [style.dim(pad(head)), ...rows.map((row, i) => pad(row, result.pairs[i]?.status))];
  const counts = new Map<string, number>();
  for (const r of result.pairs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const tally = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  lines.push(style.dim(`${result.pairs.length} pair${result.pairs.length === 1 ? '' : 's'}: ${tally} in ${formatDuration(result.durationMs)}${result.dryRun ? ' (dry run: nothing changed)' : ''}`));
  return lines.join('\n');
}
