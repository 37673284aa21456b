// A terminal: one ora spinner listing the running pairs with their progress, then a coloured table.
import type { ChalkInstance } from 'chalk';
import ora from 'ora';
import type { PairStatus } from '../types.js';
import { describeFiles, describeProgress, describeResult, summaryTable, type TableStyle } from './describe.js';
import type { FileVerb } from './file-list.js';
import type { Handlers, Output } from './handlers.js';

const MARK: Record<PairStatus, string> = {
  ok: '✔', in_sync: '✔', planned: '•', skipped: '-', drift: '≠', failed: '✖', refused: '⛔', locked: '⏳', interrupted: '✖', partial: '◐',
};

export function ttyReporter(output: Output, chalk: ChalkInstance, verbose = false): Handlers {
  const colour = (status: PairStatus, text: string): string =>
    ['ok', 'in_sync'].includes(status) ? chalk.green(text)
      : ['planned', 'skipped'].includes(status) ? chalk.cyan(text)
        : ['drift', 'locked'].includes(status) ? chalk.yellow(text) : chalk.red(text);
  const style: TableStyle = { status: colour, dim: (t) => chalk.dim(t) };
  // Deletions in red, like the mass-delete guard's refusals: the line a reader must not miss.
  const verbColour: Record<FileVerb, (t: string) => string> = { send: (t) => chalk.green(t), replace: (t) => chalk.yellow(t), delete: (t) => chalk.red(t) };
  const running = new Map<string, string>();
  const spinner = ora({ stream: process.stderr, color: chalk.level > 0 ? 'cyan' : false });
  const render = (): void => {
    if (!running.size) return void spinner.stop();
    spinner.text = [...running].map(([name, state]) => `${chalk.bold(name)} ${chalk.dim(state)}`).join('\n  ');
    if (!spinner.isSpinning) spinner.start();
  };
  const above = (print: () => void): void => {
    spinner.clear();
    print();
    render();
  };
  return {
    run_start: () => undefined,
    pair_start: (e) => {
      running.set(e.pair.name, `${e.pair.action} (${e.pair.tool})`);
      render();
    },
    pair_step: (e) => {
      running.set(e.pair, e.step);
      render();
    },
    pair_progress: (e) => {
      running.set(e.pair, describeProgress(e.progress));
      render();
    },
    pair_retry: (e) => above(() => output.err(chalk.yellow(`↻ ${e.pair}: attempt ${e.attempt} failed (${e.reason}); retrying in ${(e.delayMs / 1000).toFixed(1)}s`))),
    warning: (e) => above(() => output.err(chalk.yellow(`⚠ ${e.pair ? `${e.pair}: ` : ''}${e.message}`))),
    pair_end: (e) => {
      running.delete(e.result.name);
      const r = e.result;
      const files = describeFiles(r, verbose).map((f) => verbColour[f.verb](f.text));
      above(() => output.err([`${colour(r.status, `${MARK[r.status]} ${r.name}`)} ${r.status} ${chalk.dim(describeResult(r))}`, ...files].join('\n')));
    },
    run_end: (e) => {
      spinner.stop();
      output.out(summaryTable(e.result, style));
    },
  };
}
