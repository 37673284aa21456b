import type { PairStatus } from './types.js';

/** labsync's own failures. Tool failures are values (Outcome), never these. */
export class LabsyncError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line: nothing was run. */
export class UsageError extends LabsyncError {}

export interface ManifestIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** `category.name` of the pair the problem is in, when there is one. */
  readonly pair?: string;
  readonly message: string;
}

export function formatIssue(issue: ManifestIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.pair ? `${where} ${issue.pair}: ${issue.message}` : `${where} ${issue.message}`;
}

/** Every problem found in a manifest, reported at once. */
export class ManifestError extends LabsyncError {
  constructor(readonly issues: readonly ManifestIssue[], summary?: string) {
    super(summary ?? issues.map(formatIssue).join('\n'));
  }
}

export class LockedError extends LabsyncError {}
/** A pair cannot be run as its folder stands (detached HEAD, no DVC repository): a stop for a human. */
export class PairSetupError extends LabsyncError {}
export class InterruptedError extends LabsyncError {}
export class ToolMissingError extends LabsyncError {}

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  safety: 3,
  drift: 4,
  /** `drain`: the budget ended before every planned file was sent; nothing half-written was left. */
  partial: 5,
  locked: 75,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Precedence when several apply (SPEC §2): the first in this list wins. */
const PRECEDENCE: readonly ExitCode[] = [EXIT.interrupted, EXIT.usage, EXIT.safety, EXIT.failed, EXIT.drift, EXIT.partial, EXIT.locked];

const STATUS_EXIT: Record<PairStatus, ExitCode> = {
  ok: EXIT.ok,
  in_sync: EXIT.ok,
  planned: EXIT.ok,
  skipped: EXIT.ok,
  failed: EXIT.failed,
  refused: EXIT.safety,
  drift: EXIT.drift,
  locked: EXIT.locked,
  interrupted: EXIT.interrupted,
  partial: EXIT.partial,
};

function errorExit(error: unknown): ExitCode {
  if (error instanceof InterruptedError) return EXIT.interrupted;
  if (error instanceof UsageError || error instanceof ManifestError) return EXIT.usage;
  if (error instanceof LockedError) return EXIT.locked;
  if (error instanceof PairSetupError) return EXIT.safety;
  return EXIT.failed;
}

/** The one place that turns what happened into a process exit code. */
export function exitCodeFor(statuses: readonly PairStatus[], error?: unknown): ExitCode {
  const codes = new Set<ExitCode>(statuses.map((s) => STATUS_EXIT[s]));
  if (error !== undefined) codes.add(errorExit(error));
  return PRECEDENCE.find((c) => codes.has(c)) ?? EXIT.ok;
}
