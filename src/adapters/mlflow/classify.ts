// Pure: labsync's MLflow client's exit code + stderr → ok | retry | fatal. The client sorts the
// server's answers itself (src/mlflow-client/rest.ts): 75 = transient (unreachable, 5xx, 429, no answer in time).
import type { Outcome, Progress, ToolOutput } from '../types.js';

export const EXIT_TRANSIENT = 75;

const said = (output: ToolOutput): string =>
  output.stderr.split('\n').map((l) => l.replace(/^mlflow: /, '').trim()).filter((l) => l && !l.startsWith('progress ')).slice(-2).join(' | ').slice(0, 500) || `exit ${output.exitCode}`;

export function classify(output: ToolOutput): Outcome {
  if (output.exitCode === 0) return { kind: 'ok' };
  if (output.exitCode === EXIT_TRANSIENT) return { kind: 'retry', reason: said(output) };
  if (/UNAUTHENTICATED|PERMISSION_DENIED|HTTP 401|HTTP 403/.test(output.stderr)) {
    return { kind: 'fatal', reason: `credentials refused: ${said(output)}`, hint: 'set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN' };
  }
  return { kind: 'fatal', reason: said(output) };
}

/** "progress bytes=N files=M", which the client prints while it moves files. */
export function parseProgress(line: string): Progress | undefined {
  const m = /^progress bytes=(\d+) files=(\d+)/.exec(line.trim());
  return m ? { bytes: Number(m[1]), files: Number(m[2]) } : undefined;
}
