// CI-native output: a Markdown summary for GitHub's step summary, `::error` annotations for failed pairs.
// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
import { appendFileSync } from 'node:fs';
import { formatBytes, formatDuration } from '../util/duration.js';
import { BAD, describeDetail } from './describe.js';
import type { Handlers, Output } from './handlers.js';

/** Workflow-command data escaping: %, CR and LF. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function githubReporter(output: Output, env: NodeJS.ProcessEnv): Handlers | undefined {
  const summary = env.GITHUB_STEP_SUMMARY;
  const annotate = env.GITHUB_ACTIONS === 'true';
  if (!summary && !annotate) return undefined;
  const none = (): void => undefined;
  return {
    run_start: none, pair_start: none, pair_step: none, pair_progress: none, pair_retry: none, warning: none,
    pair_end: (e) => {
      const r = e.result;
      if (annotate && BAD.has(r.status)) output.err(`::error title=${escapeData(`labsync ${r.category}.${r.name}: ${r.status}`)}::${escapeData(describeDetail(r))}`);
    },
    run_end: (e) => {
      if (!summary) return;
      const r = e.result;
      const lines = [
        `### labsync ${r.command}: ${r.ok ? '✅ ok' : '❌ not ok'}${r.dryRun ? ' (dry run)' : ''}`,
        '',
        '| pair | action | status | files | bytes | time | detail |',
        '|---|---|---|---:|---:|---:|---|',
        ...r.pairs.map((p) => `| ${p.category}.${p.name} | ${p.action} | ${p.status} | ${p.files} | ${formatBytes(p.bytes)} | ${formatDuration(p.durationMs)} | ${cell(describeDetail(p))} |`),
        '',
      ];
      appendFileSync(summary, `${lines.join('\n')}\n`);
    },
  };
}
