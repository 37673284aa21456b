// CI-native output: a Markdown summary for GitHub's step summary, `::error` annotations for failed pairs.
// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
import { appendFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import type { PairRef } from '../engine/events.js';
import { formatBytes, formatDuration } from '../util/duration.js';
import { BAD, describeDetail } from './describe.js';
import type { Handlers, Output } from './handlers.js';

/** Workflow-command data escaping: %, CR and LF. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Workflow-command property escaping: the data escapes, plus the separators ":" and ",". */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `file=…,line=…,col=…` of the pair in the manifest, so the annotation lands on that line of a pull
 * request: the path relative to the repository (GITHUB_WORKSPACE, else the working folder). A manifest
 * outside it gets no place (GitHub could not show one).
 */
export function placeOf(source: PairRef['source'], env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  if (!source?.path) return '';
  const file = relative(env.GITHUB_WORKSPACE || cwd, source.path);
  if (!file || file === '..' || file.startsWith(`..${sep}`) || isAbsolute(file)) return '';
  return `file=${escapeProperty(file.split(sep).join('/'))},line=${source.line},col=${source.col},`;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function githubReporter(output: Output, env: NodeJS.ProcessEnv): Handlers | undefined {
  const summary = env.GITHUB_STEP_SUMMARY;
  const annotate = env.GITHUB_ACTIONS === 'true';
  if (!summary && !annotate) return undefined;
  const none = (): void => undefined;
  const sources = new Map<string, PairRef['source']>();
  const remember = (pairs: readonly PairRef[]): void => void pairs.forEach((p) => sources.set(p.name, p.source));
  return {
    run_start: (e) => remember(e.pairs),
    pair_start: (e) => remember([e.pair]),
    pair_step: none, pair_progress: none, pair_retry: none, warning: none,
    pair_end: (e) => {
      const r = e.result;
      if (!annotate || !BAD.has(r.status)) return;
      const title = escapeProperty(`labsync ${r.category}.${r.name}: ${r.status}`);
      output.err(`::error ${placeOf(sources.get(r.name), env)}title=${title}::${escapeData(describeDetail(r))}`);
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
