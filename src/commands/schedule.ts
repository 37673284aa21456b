// `labsync schedule`: cron lines (or systemd timers) for the pairs that have a `schedule:`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { UsageError, type ExitCode } from '../errors.js';
import { makeRedactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import { logsDir } from '../state/paths.js';
import type { Manifest } from '../types.js';
import { onCalendar } from '../util/cron-systemd.js';
import { openManifest, type GlobalOptions } from './context.js';

export interface ScheduleOptions {
  readonly install?: boolean;
  readonly remove?: boolean;
  readonly systemd?: boolean;
  /** Edit this file instead of the user's crontab. */
  readonly crontabFile?: string;
  /** Edit this user's crontab (crontab -u; root only), e.g. a service account's. */
  readonly crontabUser?: string;
  /** Where --systemd writes units (default ~/.config/systemd/user). */
  readonly unitDir?: string;
  /** sbatch scripts (a job array per sharded pair) instead of crontab lines. */
  readonly slurm?: boolean;
  /** CronJobs running an Indexed Job per pair, in `image`. */
  readonly kubernetes?: boolean;
  readonly image?: string;
}

/** Pairs that share an expression share a line, in manifest order. */
export function scheduleGroups(manifest: Manifest): [string, string[]][] {
  const groups = new Map<string, string[]>();
  // Trimmed as validate reads it: `schedule: |` leaves a line break that would split the cron line.
  for (const p of manifest.pairs) if (p.schedule?.trim()) groups.set(p.schedule.trim(), [...(groups.get(p.schedule.trim()) ?? []), p.name]);
  return [...groups];
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
export const shellQuote = q;
const BIN = fileURLToPath(new URL('../bin/labsync.js', import.meta.url));

/**
 * What a scheduled run needs of the installing shell's environment besides PATH: which rclone labsync
 * drives (LABSYNC_RCLONE: a pair needing rclone ≥ 1.66 was refused under cron, or ran another bisync)
 * and rclone's config file. Nothing secret: those stay with the user's own setup.
 */
export const CARRIED = ['LABSYNC_RCLONE', 'RCLONE_CONFIG'] as const;

/**
 * NAME=value words for the scheduler: PATH, then each of CARRIED that is set, a relative path made
 * absolute (the scheduled run starts in the manifest's folder, not the one installing it). A value
 * holding a line break would split the cron line or the unit: refused.
 */
export function carriedEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): [string, string][] {
  const out: [string, string][] = [['PATH', env.PATH ?? '/usr/bin:/bin']];
  for (const k of CARRIED) {
    const v = env[k];
    if (!v) continue;
    // labsync resolves a relative LABSYNC_RCLONE against the folder it runs in; RCLONE_CONFIG goes to
    // rclone as it is, and rclone runs in the manifest's folder either way: left alone.
    out.push([k, k === 'LABSYNC_RCLONE' && v.includes('/') && !isAbsolute(v) ? resolve(cwd, v) : v]);
  }
  const broken = out.find(([, v]) => /[\r\n]/.test(v));
  if (broken) throw new UsageError(`${broken[0]} holds a line break, which a scheduled command cannot carry`, `set ${broken[0]} to a plain path and run labsync schedule again`);
  return out;
}

/** The command a scheduler runs: absolute node and labsync, the PATH (and CARRIED) of the shell that installed it. */
export function runLine(manifest: Manifest, names: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  // Flags and the subcommand are labsync's own words; every value (paths, names) is quoted.
  const words = runArgv(manifest, names).map((w) => (w.startsWith('-') || w === 'sync' ? w : q(w)));
  return `cd ${q(manifest.root)} && ${carriedEnv(env).map(([k, v]) => `${k}=${q(v)}`).join(' ')} exec ${words.join(' ')}`;
}

/** The same command as an argv, for schedulers that take one (systemd). */
export function runArgv(manifest: Manifest, names: readonly string[]): string[] {
  return [...labsyncArgv(manifest), '--quiet', '--log-file', join(logsDir(manifest.root), 'cron.log'), 'sync', ...names];
}

/** Absolute node, labsync and manifest: what any scheduler starts, before the options and the subcommand. */
export function labsyncArgv(manifest: Manifest): string[] {
  return [process.execPath, BIN, '-c', manifest.file];
}

/**
 * systemd's own quoting: double quotes with backslash escapes, %% for a literal %; `exec`: an
 * ExecStart= word, where $$ is a literal $ (systemd expands $VAR there even in quotes; Environment=
 * expands nothing, and $$ would stay two).
 */
export function unitQuote(word: string, exec = false): string {
  const escaped = exec ? word.replace(/%/g, '%%').replace(/\$/g, '$$$$') : word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function cronBlock(manifest: Manifest, env: NodeJS.ProcessEnv = process.env): string[] {
  const mark = `labsync ${manifest.file}`;
  const lines = scheduleGroups(manifest).map(([expr, names]) => `${expr} ${runLine(manifest, names, env).replace(/%/g, '\\%')}`);
  return [`# BEGIN ${mark}`, '# managed by `labsync schedule --install`: edit the manifest, not these lines', ...lines, `# END ${mark}`];
}

/**
 * The crontab text with this manifest's block replaced (or removed), everything else untouched. A
 * block whose markers were edited by hand (one missing, doubled, out of order) is never guessed at:
 * a guess appended a second live block, or removed the user's own lines between two blocks' markers.
 */
export function editCrontab(current: string, manifest: Manifest, block: readonly string[] | undefined): string {
  const mark = `labsync ${manifest.file}`;
  const lines = current.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // A table saved with CRLF line ends still has its markers.
  const at0 = (want: string): number[] => lines.flatMap((l, i) => (l.replace(/\r$/, '') === want ? [i] : []));
  const begins = at0(`# BEGIN ${mark}`);
  const ends = at0(`# END ${mark}`);
  const found = begins.length + ends.length > 0;
  if (found && (begins.length !== 1 || ends.length !== 1 || (ends[0] as number) < (begins[0] as number))) {
    const where = [...begins.map((i) => `BEGIN at line ${i + 1}`), ...ends.map((i) => `END at line ${i + 1}`)].join(', ');
    throw new UsageError(`the crontab's labsync block for ${manifest.file} was edited by hand (${where}): it needs exactly one BEGIN and, after it, one END line`, 'fix or remove those lines with `crontab -e`, then run `labsync schedule --install` (or --remove) again; nothing was changed');
  }
  const begin = found ? (begins[0] as number) : -1;
  const end = found ? (ends[0] as number) : -1;
  const kept = found ? [...lines.slice(0, begin), ...lines.slice(end + 1)] : lines;
  const at = found ? begin : kept.length;
  const next = block ? [...kept.slice(0, at), ...block, ...kept.slice(at)] : kept;
  return next.length ? `${next.join('\n')}\n` : '';
}

async function readCrontab(o: ScheduleOptions): Promise<string> {
  if (o.crontabFile) return existsSync(o.crontabFile) ? readFileSync(o.crontabFile, 'utf8') : '';
  const user = o.crontabUser ? ['-u', o.crontabUser] : [];
  const out = await run({ tool: 'crontab', args: [...user, '-l'], cwd: process.cwd(), mutates: false, label: 'read crontab' }, { redact: makeRedactor(process.env) });
  if (out.spawnError) throw new UsageError('crontab is not installed', 'apt-get install -y cron');
  if (out.exitCode !== 0 && /no crontab/i.test(out.stderr)) return '';
  if (out.exitCode !== 0) throw new UsageError(`crontab -l failed: ${out.stderr.trim()}`);
  return out.stdout;
}

async function writeCrontab(o: ScheduleOptions, text: string): Promise<void> {
  if (o.crontabFile) return writeFileSync(o.crontabFile, text);
  // On stdin: a file under a predictable name in /tmp could be another user's, read by crontab as ours.
  const user = o.crontabUser ? ['-u', o.crontabUser] : [];
  const out = await run({ tool: 'crontab', args: [...user, '-'], cwd: process.cwd(), mutates: true, label: 'install crontab', input: text }, { redact: makeRedactor(process.env) });
  if (out.exitCode !== 0) throw new UsageError(`crontab refused the new table: ${out.stderr.trim()}`);
}

const unitSlug = (manifest: Manifest): string => createHash('sha256').update(manifest.file).digest('hex').slice(0, 8);

/** The units in `dir` that labsync wrote for this manifest (its name prefix and its description line). */
function ownUnits(dir: string, manifest: Manifest): string[] {
  const prefix = `labsync-${unitSlug(manifest)}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && /^\d+\.(service|timer)$/.test(n.slice(prefix.length)) && /^Description=labsync /m.test(readFileSync(join(dir, n), 'utf8')));
}

export function systemdUnits(manifest: Manifest): { name: string; service: string; timer: string }[] {
  const slug = unitSlug(manifest);
  return scheduleGroups(manifest).map(([expr, names], i) => {
    const name = `labsync-${slug}-${i + 1}`;
    const calendars = onCalendar(expr);
    const service = [
      '[Unit]', `Description=labsync sync ${names.join(' ')} (${manifest.file.replace(/%/g, '%%')})`, '',
      // WorkingDirectory= takes the path as it is (quotes would be part of it): only % is special there.
      '[Service]', 'Type=oneshot', `WorkingDirectory=${manifest.root.replace(/%/g, '%%')}`,
      ...carriedEnv().map(([k, v]) => `Environment=${unitQuote(`${k}=${v}`)}`),
      `ExecStart=${runArgv(manifest, names).map((w) => unitQuote(w, true)).join(' ')}`, '',
    ].join('\n');
    const timer = [
      '[Unit]', `Description=labsync schedule "${expr}" for ${names.join(' ')}`, '',
      // Persistent: a run missed while the machine slept or was off happens at the next boot.
      '[Timer]', ...(calendars.length ? calendars.map((c) => `OnCalendar=${c}`) : ['OnBootSec=1min']), 'Persistent=true', `Unit=${name}.service`, '',
      '[Install]', 'WantedBy=timers.target', '',
    ].join('\n');
    return { name, service, timer };
  });
}

/** This user's name; a uid with no passwd entry (a container) has none: $USER, else the shell's. */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '"$USER"';
  }
}

export async function scheduleCommand(opts: GlobalOptions, given: ScheduleOptions): Promise<ExitCode> {
  if (given.install && given.remove) throw new UsageError('--install and --remove cannot be used together');
  // --dry-run changes nothing anywhere (SPEC §1): what --install would write is printed, nothing is
  // written or removed (review 41: the crontab, units and sbatch scripts were).
  const dry = opts.dryRun && (given.install || given.remove);
  if (dry) process.stderr.write(`--dry-run: nothing ${given.install ? 'installed' : 'removed'}; ${given.install ? 'what --install would write' : 'what this manifest schedules'}:\n`);
  const o: ScheduleOptions = dry ? { ...given, install: false, remove: false } : given;
  if (o.crontabFile && o.crontabUser) throw new UsageError('--crontab-file and --crontab-user cannot be used together');
  const chosen = [o.systemd && '--systemd', o.slurm && '--slurm', o.kubernetes && '--kubernetes'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be used together: pick one scheduler`);
  if (o.image !== undefined && !o.kubernetes) throw new UsageError('--image is for --kubernetes');
  if (o.slurm || o.kubernetes) {
    const { otherScheduler } = await import('./schedule-other.js');
    return otherScheduler(openManifest(opts), o);
  }
  const manifest = openManifest(opts);
  const groups = scheduleGroups(manifest);
  if (o.systemd) {
    const dir = o.unitDir ?? join(homedir(), '.config', 'systemd', 'user');
    const units = systemdUnits(manifest);
    if (o.install || o.remove) {
      // This manifest's units no longer wanted (all with --remove; past the new count on install: a pair
      // whose schedule went kept running from the unit written for it).
      const wanted = new Set(o.remove ? [] : units.flatMap((u) => [`${u.name}.service`, `${u.name}.timer`]));
      const stale = ownUnits(dir, manifest).filter((n) => !wanted.has(n));
      for (const n of stale) rmSync(join(dir, n), { force: true });
      const timers = stale.filter((n) => n.endsWith('.timer'));
      const stop = timers.length ? `; stop the removed timers with: systemctl --user disable --now ${timers.join(' ')}` : '';
      if (o.remove) {
        process.stdout.write(stale.length ? `removed ${stale.length} units from ${dir}${stop}\n` : `no labsync units for ${manifest.file} in ${dir}\n`);
        return 0;
      }
      mkdirSync(dir, { recursive: true });
      for (const u of units) {
        writeFileSync(join(dir, `${u.name}.service`), u.service);
        writeFileSync(join(dir, `${u.name}.timer`), u.timer);
      }
      // A user's timers run only while the user's systemd runs: on a server one logs out of, never without linger (review 42).
      const linger = `; on a machine you log out of, also run: loginctl enable-linger ${userName()} (else the timers stop at logout)`;
      process.stdout.write(`wrote ${units.length * 2} units to ${dir}; enable with: systemctl --user daemon-reload && systemctl --user enable --now ${units.map((u) => `${u.name}.timer`).join(' ')}${stop}${linger}\n`);
    } else {
      for (const u of units) process.stdout.write(`# ${u.name}.service\n${u.service}\n# ${u.name}.timer\n${u.timer}\n`);
    }
    return 0;
  }
  if (!o.install && !o.remove) {
    process.stdout.write(groups.length ? `${cronBlock(manifest).join('\n')}\n` : '# no pair in this manifest has a schedule:\n');
    return 0;
  }
  const current = await readCrontab(o);
  const next = editCrontab(current, manifest, o.remove || !groups.length ? undefined : cronBlock(manifest));
  if (next === current) process.stdout.write(`crontab already ${o.remove ? 'has no labsync block' : 'up to date'} for ${manifest.file}\n`);
  else {
    await writeCrontab(o, next);
    process.stdout.write(o.remove ? `removed the labsync block for ${manifest.file}\n` : `installed ${groups.length} schedule line${groups.length === 1 ? '' : 's'} for ${manifest.file}\n`);
  }
  return 0;
}
