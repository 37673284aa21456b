// `labsync doctor`: every tool, found or not, its version, who needs it, and the exact install command.
import { adapters } from '../adapters/index.js';
import { atLeast, INSTALL_HINT } from '../adapters/rclone/features.js';
import { backendType } from '../adapters/rclone/s3-target.js';
import { configPath } from '../adapters/rclone/index.js';
import type { ExitCode } from '../errors.js';
import { makeRedactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import { which } from '../exec/which.js';
import { programOf } from '../exec/program.js';
import { access } from 'node:fs/promises';
import { constants, existsSync, readFileSync } from 'node:fs';
import { LabsyncError } from '../errors.js';
import { TOOLS, type Manifest, type ResolvedPair, type ToolName } from '../types.js';

/** What doctor looks for: the five tools, ssh for ssh remotes, and Slurm's sbatch for `schedule --slurm`. */
type Program = ToolName | 'ssh' | 'slurm';
import { chalkFor, openManifestToConnect, type GlobalOptions } from './context.js';
import { cronProblems } from './doctor-cron.js';
import { hostProblems } from './doctor-hosts.js';
import { sbatchVersion } from './doctor-slurm.js';
import { keptLines } from './doctor-kept.js';
import { userCacheFolder } from '../manifest/cache.js';
import { untrustedWhy } from '../state/trusted-folder.js';

const INSTALL: Record<Program, string> = {
  rsync: 'apt-get install -y rsync   (macOS: brew install rsync)',
  ssh: 'apt-get install -y openssh-client',
  rclone: 'apt-get install -y rclone   (or https://rclone.org/install/)',
  git: 'apt-get install -y git',
  // pipx gives each Python tool a venv of its own: pip into the machine's Python lets dvc[s3] move
  // botocore past the pin of an installed awscli.
  dvc: "pipx install 'dvc[s3]'   (pipx: apt-get install -y pipx)",
  aws: 'pipx install awscli   (pipx: apt-get install -y pipx)',
  // labsync's own REST client: only a tracking server (run your own: pipx install 'mlflow==3.17.2').
  mlflow: 'nothing to install: labsync talks to the tracking server over REST',
  // The hf CLI comes with huggingface_hub (its [cli] extra is gone).
  hf: 'pipx install huggingface_hub   (pipx: apt-get install -y pipx)',
  // Only where jobs are submitted (`labsync schedule --slurm`); a site's own Slurm has it already.
  slurm: 'apt-get install -y --no-install-recommends slurm-client   (the cluster\'s own, on a Slurm site)',
};

/** Tools labsync carries itself: present wherever labsync runs. */
const BUILT_IN: ReadonlySet<Program> = new Set(['mlflow']);

function firstLine(text: string): string | undefined {
  return text.split('\n').map((l) => l.trim()).find(Boolean);
}

/** LABSYNC_RCLONE names a binary by path: that one is the rclone labsync drives, not the PATH's. */
async function locate(program: Program): Promise<string | undefined> {
  if (program === 'slurm') return which('sbatch');
  const chosen = programOf(program);
  if (!chosen.includes('/')) return which(chosen);
  return access(chosen, constants.X_OK).then(() => chosen, () => undefined);
}

async function probe(program: Program): Promise<{ path?: string; version?: string; chosenBy?: string }> {
  if (BUILT_IN.has(program)) return { path: '(built in)', version: adapters[program as ToolName].version().parse([]) ?? '' };
  const path = await locate(program);
  if (program === 'slurm') return path ? { path, version: (await sbatchVersion()) ?? '' } : {};
  const chosenBy = programOf(program) !== program ? `LABSYNC_${program.toUpperCase()}` : undefined;
  if (!path) return chosenBy ? { chosenBy } : {};
  const adapter = program === 'ssh' ? undefined : adapters[program];
  const versionProbe = adapter?.version();
  const command = versionProbe?.commands[0] ?? { tool: program, args: [program === 'ssh' ? '-V' : '--version'], cwd: process.cwd(), mutates: false, label: 'version' };
  const out = await run(command, { redact: makeRedactor(), timeoutMs: 15_000 });
  const parsed = versionProbe ? versionProbe.parse([out]) : undefined;
  return { path, version: parsed ?? firstLine(out.stdout) ?? firstLine(out.stderr) ?? '', ...(chosenBy ? { chosenBy } : {}) };
}

/** rclone writes a partial file under a temporary name from 1.63 on (local, sftp, ftp, smb backends). */
const RCLONE_PARTIAL = '1.63.0';

/**
 * What the rclone found cannot promise these pairs: before 1.63 it writes a file under its final name as
 * it arrives, so a transfer stopped (Ctrl-C, a timeout, the stall watchdog) leaves a cut-off file there,
 * and a pull over an existing file loses the old copy (review 42). Pairs whose destination is a folder
 * rclone writes into directly: a pull's local folder, a push's local remote.
 */
function rcloneWarnings(found: readonly { program: Program; version?: string; path?: string }[], manifest: Manifest | undefined): string[] {
  const rclone = found.find((f) => f.program === 'rclone');
  if (!rclone?.path || !rclone.version || atLeast(rclone.version, RCLONE_PARTIAL)) return [];
  // The remote's backend as rclone resolves it: the manifest's, rclone.conf's or RCLONE_CONFIG_*'s (review 46).
  const read = (f: string): string => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return ''; // none, a folder, unreadable: as the adapter reads it (review 47: doctor failed outright)
    }
  };
  const backend = (p: ResolvedPair): string => backendType(p.remote, process.env, configPath(), read);
  const exposed = (manifest?.pairs ?? []).filter((p) => p.tool === 'rclone' && (p.mode !== 'push' || p.remote.type === 'local' || ['local', 'sftp', 'ftp', 'smb'].includes(backend(p))));
  if (!exposed.length) return [];
  return [`rclone ${rclone.version} writes files under their final names as they arrive (1.63 and newer write a partial file first): a stopped transfer of ${exposed.map((p) => p.name).join(', ')} can leave cut-off files there; ${INSTALL_HINT}`];
}

function needs(manifest: Manifest | undefined): Map<Program, string[]> {
  const map = new Map<Program, string[]>();
  const add = (p: Program, who: string): void => void map.set(p, [...(map.get(p) ?? []), who]);
  for (const pair of manifest?.pairs ?? []) {
    add(pair.tool, pair.name);
    if (pair.remote.type === 'ssh') add('ssh', pair.name);
  }
  return map;
}

export async function doctorCommand(opts: GlobalOptions, cron = false): Promise<ExitCode> {
  let manifest: Manifest | undefined;
  let manifestNote = '';
  try {
    manifest = openManifestToConnect(opts);
  } catch (error) {
    // doctor helps before a manifest exists; a broken one is still worth saying.
    // A manifest's message quotes values with ${VAR}s expanded: redacted as every output is.
    manifestNote = makeRedactor(process.env)(error instanceof LabsyncError ? error.message : String(error));
  }
  const wanted = needs(manifest);
  const programs: Program[] = [...TOOLS, 'ssh', 'slurm'];
  const found = await Promise.all(programs.map(async (p) => ({ program: p, ...(await probe(p)), neededBy: wanted.get(p) ?? [] })));
  const missing = found.filter((f) => !f.path && f.neededBy.length);
  const underCron = cron && manifest ? await cronProblems(manifest) : [];
  const hosts = manifest ? await hostProblems(manifest) : [];
  const kept = manifest ? keptLines(manifest) : [];
  // Not a failure either: without its cache folder labsync only starts slower (no code cache, no
  // sessions started early, no manifest cache).
  const cacheDir = userCacheFolder();
  const cacheWhy = existsSync(cacheDir) ? untrustedWhy(cacheDir) : undefined;
  const cache = { path: cacheDir, used: cacheWhy === undefined, ...(cacheWhy ? { why: cacheWhy } : {}) };
  const bad = missing.length > 0 || underCron.length > 0;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command: 'doctor', ok: !bad, tools: found.map((f) => ({ ...f, install: INSTALL[f.program] })), hosts, keptConnections: kept, cacheFolder: cache, ...(cron ? { cron: underCron } : {}) }, null, 2)}\n`);
    return bad ? 1 : 0;
  }
  const chalk = await chalkFor(opts);
  for (const f of found) {
    const mark = f.path ? chalk.green('✔') : f.neededBy.length ? chalk.red('✖') : chalk.dim('-');
    const who = f.neededBy.length ? chalk.dim(` needed by ${f.neededBy.join(', ')}`) : '';
    const by = f.chosenBy ? chalk.dim(` (${f.chosenBy})`) : '';
    const what = f.path ? `${f.version} ${chalk.dim(f.path)}${by}` : f.chosenBy ? `not found at ${programOf(f.program)}${by}` : `not found — install: ${INSTALL[f.program]}`;
    process.stdout.write(`${mark} ${f.program.padEnd(7)} ${what}${who}\n`);
  }
  // Not a failure: labsync falls back to rsync's own listing and comparison there, only slower.
  for (const h of hosts) process.stdout.write(`${chalk.yellow('!')} ${h}\n`);
  for (const w of rcloneWarnings(found, manifest)) process.stdout.write(`${chalk.yellow('!')} ${w}\n`);
  for (const k of kept) process.stdout.write(`${k.kept ? chalk.green('✔') : chalk.dim('-')} ${k.line}\n`);
  if (cacheWhy) process.stdout.write(`${chalk.yellow('!')} cache folder not used (no code cache, no early ssh sessions, no manifest cache): ${cacheWhy}\n`);
  if (!manifest) process.stdout.write(chalk.dim(`(no manifest checked: ${manifestNote.split('\n')[0]})\n`));
  if (missing.length) process.stderr.write(`missing for this manifest: ${missing.map((m) => m.program).join(', ')}\n`);
  if (cron) {
    process.stdout.write(underCron.length ? `\nunder cron:\n` : `\nunder cron: nothing found that would break\n`);
    for (const c of underCron) process.stdout.write(`${chalk.yellow('!')} ${c.pair ? `${c.pair}: ` : ''}${c.problem}\n    fix: ${c.fix}\n`);
  }
  return bad ? 1 : 0;
}
