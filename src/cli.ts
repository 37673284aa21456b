// The whole CLI surface. Handlers are imported lazily so --help and --version load commander only.
// Exit codes are decided here and nowhere else (errors.ts: exitCodeFor).
import { Command, CommanderError } from 'commander';
import { exitCodeFor, formatIssue, LabsyncError, ManifestError } from './errors.js';
import { makeRedactor, redactDeep } from './exec/redact.js';
import type { GlobalOptions } from './commands/context.js';
import { CATEGORIES } from './types.js';
import { dropOutputWhenReaderGoes } from './ui/pipe.js';
import { VERSION } from './version.js';
import { mark } from './util/trace.js';
import { endEarly, setStart, type Start } from './exec/early.js';

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('labsync')
    .description('Keep code, datasets and models in sync through git, dvc, rclone, rsync and aws — and prove the copy is right.')
    .version(VERSION, '--version')
    .option('-c, --config <file>', 'manifest (else $LABSYNC_CONFIG, else labsync.yaml searched upward)')
    .option('--dry-run', 'change nothing anywhere; show what would be transferred and deleted')
    .option('--json', 'print one JSON document on stdout when the run ends')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'more detail, and debug lines in the log')
    .option('--log-file <file>', 'NDJSON log (default .labsync/logs/labsync-DATE.log)')
    .option('--concurrency <n>', 'pairs run at once (default: defaults.concurrency, else 2)')
    .option('--tag <tag>', 'only pairs with this tag')
    .option('--no-verify', 'skip the verify step after transfers')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('--wait <seconds>', "wait this long for a pair's lock instead of exiting 75")
    .showHelpAfterError()
    .exitOverride();

  const run = (category: (typeof CATEGORIES)[number] | undefined) => async (action: string, names: string[], o: { resync?: boolean; commit?: string; snapshot?: string; shard?: string }, cmd: Command) => {
    const { runCommand } = await import('./commands/run.js');
    setExit(await runCommand(category, action, names, { ...globals(cmd), resync: Boolean(o.resync), ...(o.commit !== undefined ? { commit: o.commit } : {}), ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}), ...(o.shard !== undefined ? { shard: o.shard } : {}) }));
  };
  const SHARD_HELP = "this worker's slice of each pair: K of N workers (0-based); else from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX for pairs with shards:";
  for (const category of CATEGORIES) {
    program
      .command(category)
      .description(`the manifest's ${category}: pairs`)
      .argument('<action>', 'push | pull | sync | status')
      .argument('[names...]', 'only these pairs')
      .option('--resync', 'with sync: the explicit first run of a bisync pair')
      .option('--commit <message>', 'with push/sync: commit local changes first (git: add -A and commit; dvc: commit the .dvc file)')
      .option('--snapshot <timestamp>', "with pull/status: a snapshots: pair's snapshot instead of its latest")
      .option('--shard <K/N>', SHARD_HELP)
      .action(run(category));
  }
  program
    .command('sync')
    .description('every pair (or the named ones), each in its configured mode — what cron and CI call')
    .argument('[names...]', 'only these pairs')
    .option('--resync', 'the explicit first run of a bisync pair (rclone bisync --resync); never added by labsync')
    .option('--shard <K/N>', SHARD_HELP)
    .action(async (names: string[], o: { resync?: boolean; shard?: string }, cmd: Command) => {
      const { runCommand } = await import('./commands/run.js');
      setExit(await runCommand(undefined, 'sync', names, { ...globals(cmd), resync: Boolean(o.resync), ...(o.shard !== undefined ? { shard: o.shard } : {}) }));
    });
  program
    .command('check')
    .description('the verifier: compare local and remote by checksum, report drift (exit 4)')
    .argument('[category]', 'code | data | models (or a pair name)')
    .argument('[names...]', 'only these pairs')
    .option('--sums <file>', 'verify a tree against a checksum list instead, like sha256sum -c (- reads it from standard input)')
    .option('--dir <dir>', 'with --sums: the folder the names are relative to (default: here)')
    .option('--full', 'download to compare where the remote offers no checksum')
    .option('--snapshot <timestamp>', "a snapshots: pair's snapshot instead of its latest")
    .option('--shard <K/N>', "check only this worker's slice (see sync --shard)")
    .action(async (category: string | undefined, names: string[], o: { sums?: string; dir?: string; full?: boolean; snapshot?: string; shard?: string }, cmd: Command) => {
      if (o.sums) {
        const { checkSumsCommand } = await import('./commands/check-sums.js');
        return setExit(await checkSumsCommand(o.sums, o.dir, globals(cmd)));
      }
      const { runCommand } = await import('./commands/run.js');
      const isCategory = (CATEGORIES as readonly (string | undefined)[]).includes(category);
      const words = isCategory || category === undefined ? names : [category, ...names];
      setExit(await runCommand(isCategory ? (category as (typeof CATEGORIES)[number]) : undefined, 'check', words, { ...globals(cmd), full: Boolean(o.full), ...(o.snapshot ? { snapshot: o.snapshot } : {}), ...(o.shard !== undefined ? { shard: o.shard } : {}) }));
    });
  program
    .command('sums')
    .description('print a checksum list of a tree, in the coreutils md5sum/sha256sum format')
    .argument('<path>', 'a folder (or one file)')
    .option('--algo <algo>', 'md5 | sha256', 'sha256')
    .action(async (path: string, o: { algo?: string }) => {
      const { sumsCommand } = await import('./commands/sums.js');
      setExit(await sumsCommand(path, o.algo));
    });
  program
    .command('status')
    .description('the last run of every pair (or the named ones), from the state folder')
    .argument('[names...]', 'only these pairs')
    .option('--max-age <duration>', "exit 1 when a selected pair's last success is older than this (e.g. 2h)")
    .action(async (names: string[], o: { maxAge?: string }, cmd: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      setExit(await statusCommand(globals(cmd), o.maxAge, names));
    });
  program
    .command('receipts')
    .description('the receipts of past runs (time, pair, shard, outcome, files, bytes), oldest first')
    .argument('[names...]', 'only these pairs')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const { receiptsCommand } = await import('./commands/receipts.js');
      setExit(await receiptsCommand(globals(cmd), names));
    });
  program
    .command('plan')
    .description('the exact commands a run would execute, secrets redacted; runs nothing')
    .argument('[category]', 'code | data | models')
    .argument('[action]', 'push | pull | sync (default sync)')
    .argument('[names...]', 'only these pairs')
    .option('--save <file>', 'list both sides and write the plan (files to send/replace/delete, listings\' digests, the guard\'s verdict) for `labsync apply`')
    .action(async (category: string | undefined, action: string | undefined, names: string[], o: { save?: string }, cmd: Command) => {
      const { planCommand } = await import('./commands/plan.js');
      setExit(await planCommand(category, action, names, globals(cmd), o.save));
    });
  program
    .command('apply')
    .description('carry out exactly a plan saved by `plan --save`; exit 3, nothing changed, when either side no longer matches it')
    .argument('<file>', 'the plan file')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const { applyCommand } = await import('./commands/apply.js');
      setExit(await applyCommand(file, globals(cmd)));
    });
  program
    .command('schedule')
    .description('crontab lines (or systemd timer units with --systemd, sbatch scripts with --slurm, CronJobs with --kubernetes) for the pairs that have a schedule:')
    .option('--install', 'add or update this manifest\'s block in your crontab (or write the units)')
    .option('--remove', 'remove this manifest\'s block from your crontab')
    .option('--systemd', 'systemd .service and .timer units instead of crontab lines')
    .option('--crontab-file <file>', 'edit this file instead of your crontab')
    .option('--crontab-user <user>', 'edit this user\'s crontab (crontab -u, as root)')
    .option('--unit-dir <dir>', 'with --systemd --install: where to write units (default ~/.config/systemd/user)')
    .option('--slurm', 'sbatch scripts, a job array of `shards:` tasks per pair (--install writes .labsync/slurm/NAME.sbatch)')
    .option('--kubernetes', 'CronJobs whose Job is Indexed, one pod per shard (needs --image)')
    .option('--image <image>', 'with --kubernetes: the container image that runs labsync')
    .action(async (o: { install?: boolean; remove?: boolean; systemd?: boolean; crontabFile?: string; crontabUser?: string; unitDir?: string; slurm?: boolean; kubernetes?: boolean; image?: string }, cmd: Command) => {
      const { scheduleCommand } = await import('./commands/schedule.js');
      setExit(await scheduleCommand(globals(cmd), o));
    });
  program
    .command('watch')
    .description('re-run push pairs when their local files change, debounced')
    .argument('[names...]', 'only these pairs')
    .option('--debounce <seconds>', 'wait this long after the last change (default 5)')
    .option('--no-initial-push', 'do not push the pairs when watch starts, only what changes while it runs')
    .option('--drain-budget <duration>', 'on SIGTERM or a termination notice, drain the watched pairs within this (default 25s)')
    .option('--drain-on-notice <url>', "poll this termination-notice URL every 5 s (AWS spot instance-action, GCP preempted); a notice drains, then watch exits")
    .action(async (names: string[], o: { debounce?: string; initialPush: boolean; drainBudget?: string; drainOnNotice?: string }, cmd: Command) => {
      const { watchCommand } = await import('./commands/watch.js');
      setExit(await watchCommand(names, globals(cmd), o.debounce, { initialPush: o.initialPush, ...(o.drainBudget ? { budget: o.drainBudget } : {}), ...(o.drainOnNotice ? { noticeUrl: o.drainOnNotice } : {}) }));
    });
  program
    .command('drain')
    .description('push pairs newest files first and stop cleanly before the budget ends (a spot host\'s notice); exit 5 when files were left')
    .argument('[names...]', 'only these pairs (default: the pairs tagged drain)')
    .option('--budget <duration>', 'time until the host goes, e.g. 25s, 90s, 2m (default 25s)')
    .action(async (names: string[], o: { budget?: string }, cmd: Command) => {
      const { drainCommand } = await import('./commands/drain.js');
      setExit(await drainCommand(names, globals(cmd), o.budget));
    });
  program
    .command('unlock')
    .description("remove a pair's lock at the remote (and its local lock if the owner is gone), after saying whose it was")
    .argument('<name>', 'the pair')
    .option('--force', 'remove without asking (needed without a terminal)')
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      const { unlockCommand } = await import('./commands/unlock.js');
      setExit(await unlockCommand(name, globals(cmd), Boolean(o.force)));
    });
  program
    .command('validate')
    .description('parse and check the manifest; report every problem at once')
    .action(async (_o: unknown, cmd: Command) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(await validateCommand(globals(cmd)));
    });
  program
    .command('init')
    .description('write a starter labsync.yaml and the AI-project .gitignore/.dvcignore entries (never clobbers)')
    .action(async (_o: unknown, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      setExit(await initCommand(globals(cmd)));
    });
  program
    .command('schema')
    .description("the manifest's JSON Schema, for editor completion")
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      setExit(await schemaCommand());
    });
  program
    .command('doctor')
    .description('which tools are present, their versions, and what a pair needs that is missing')
    .option('--cron', 'also check what would break under cron (PATH, ssh keys, credentials)')
    .action(async (o: { cron?: boolean }, cmd: Command) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      setExit(await doctorCommand(globals(cmd), Boolean(o.cron)));
    });
  program
    .command('demo')
    .description('build a throw-away lab in a temp folder, run sync and status end to end, print the results')
    .option('--keep', 'keep the temp lab for a look afterwards')
    .action(async (o: { keep?: boolean }, cmd: Command) => {
      const { demoCommand } = await import('./commands/demo.js');
      setExit(await demoCommand(globals(cmd), Boolean(o.keep)));
    });
  return program;
}

function report(error: unknown, json: boolean): void {
  const lines: string[] = [];
  if (error instanceof ManifestError) {
    lines.push(...error.issues.map(formatIssue), `${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} in the manifest; nothing was run`);
  } else if (error instanceof LabsyncError) {
    lines.push(`labsync: ${error.message}`, ...(error.hint ? [`hint: ${error.hint}`] : []));
  } else if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
    // The machine said no (a file where a folder should be, a full disk): not a bug in labsync, so no stack.
    lines.push(`labsync: ${error.message}`);
  } else {
    lines.push(`labsync: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  // A manifest's message quotes the value it found, ${VAR}s expanded (a token in a remote URL): redacted as every output is.
  const redact = makeRedactor(process.env);
  process.stderr.write(`${redact(lines.join('\n'))}\n`);
  if (json) {
    const issues = error instanceof ManifestError ? error.issues : undefined;
    // Its values redacted, not its text: a secret-named variable holding `false` would have masked JSON's own words.
    process.stdout.write(`${JSON.stringify(redactDeep({ ok: false, error: error instanceof Error ? error.message : String(error), ...(issues ? { issues } : {}) }, redact), null, 2)}\n`);
  }
}

/** `start`: what bin/labsync.js did before the CLI loaded (ssh sessions started early, exec/early.ts). */
export async function main(argv: readonly string[], start?: Start): Promise<void> {
  mark(`main (ssh sessions started early: ${start?.early.length ?? 0})`);
  setStart(start);
  let code = 0;
  dropOutputWhenReaderGoes(process.stdout);
  dropOutputWhenReaderGoes(process.stderr);
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are not errors; every other parse failure is a usage error.
      code = error.exitCode === 0 ? 0 : 2;
      // With --json a script reads stdout: it gets its document there too (review 41: nothing at all),
      // commander having said the same on stderr already.
      if (code === 2 && argv.includes('--json')) process.stdout.write(`${JSON.stringify(redactDeep({ ok: false, error: error.message.replace(/^error: /, '') }, makeRedactor(process.env)), null, 2)}\n`);
    } else {
      report(error, argv.includes('--json'));
      code = exitCodeFor([], error);
    }
  } finally {
    endEarly();
  }
  process.exitCode = code;
  mark('done');
  exitWhenWritten(code);
}

/**
 * Exits as soon as stdout and stderr are written: the run is over (every file it writes is written and
 * closed, its children waited for), and letting node end by itself costs its teardown of the heap
 * (~5 ms of CPU, measured with perf stat) and any handle left open by mistake. process.exit still runs
 * the 'exit' handlers (the code cache, the trace, the early sessions' kill).
 */
function exitWhenWritten(code: number): void {
  const pending = [process.stdout, process.stderr].filter((s) => !s.destroyed && s.writableLength > 0);
  let left = pending.length;
  if (!left) return void process.exit(code);
  for (const s of pending) {
    let seen = false;
    const one = (): void => {
      if (seen) return;
      seen = true;
      if (--left === 0) process.exit(code);
    };
    // A write's callback comes after every write before it: an empty one marks the end of what was
    // written. A reader that went away closes the stream instead (ui/pipe.ts).
    s.write('', one);
    s.once('close', one);
  }
}

