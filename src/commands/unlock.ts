// `labsync unlock NAME`: say whose lock it was, ask (or --force), remove the remote lock, and the local one
// if its owner is gone (or, asked, another machine's).
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { selectPairs } from '../engine/select.js';
import { UsageError, type ExitCode } from '../errors.js';
import { backendFor, lockRequestMs } from '../remote-lock/backend-for.js';
import { describeHolder } from '../remote-lock/holder.js';
import { liveRunOf, readLockInfo, removeIfStale, removeLockOf } from '../state/lock.js';
import { locksDir } from '../state/paths.js';
import type { ResolvedPair } from '../types.js';
import { openManifestToConnect, redactor, type GlobalOptions } from './context.js';

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function unlockCommand(name: string, opts: GlobalOptions, force: boolean): Promise<ExitCode> {
  const manifest = openManifestToConnect(opts);
  const [pair] = selectPairs(manifest, { names: [name] });
  if (!pair) throw new UsageError(`unknown name '${name}'`);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  // --dry-run changes nothing anywhere (SPEC §1): whose locks there are, and nothing removed.
  if (opts.dryRun) return unlockDryRun(pair, say);
  const local = await removeIfStale(locksDir(pair.root), pair.name);
  if (local?.removed) say(`removed the local lock of PID ${local.info.pid} on ${local.info.host} (no longer running)`);
  else if (local && !local.elsewhere) say(`the local lock is held by PID ${local.info.pid} on ${local.info.host}, which is running: left alone`);
  else if (local) {
    // A lock folder shared between machines (an NFS home, a volume a pod was moved with): only the user
    // can say whether that run is over.
    say(`the local lock is held by PID ${local.info.pid} on ${local.info.host} (another machine: labsync cannot see whether it still runs), since ${local.info.startedAt}`);
    const yes = force || (process.stdin.isTTY && (await ask('Remove the local lock? A run still holding it would go on unlocked. [y/N] ')));
    if (!yes) say(process.stdin.isTTY ? 'local lock not removed' : `local lock not removed: \`labsync unlock ${pair.name} --force\` removes it`);
    else say(removeLockOf(locksDir(pair.root), pair.name, local.info) ? 'removed the local lock' : 'the local lock changed meanwhile: left alone');
  }
  const b = backendFor(pair, { redact: redactor(), requestTimeoutMs: lockRequestMs(pair) });
  if ('fallback' in b) {
    say(`${pair.name}: no lock at the remote (${b.fallback})`);
    return 0;
  }
  const found = await b.read();
  if (!found) {
    say(`${pair.name}: no lock at ${b.where}`);
    return 0;
  }
  const whose = found.holder ? describeHolder(found.holder, new Date()) : 'an unreadable lock';
  say(`${b.where}: ${whose}`);
  if (!force) {
    if (!process.stdin.isTTY) throw new UsageError(`not removed: without a terminal to ask, \`labsync unlock ${pair.name} --force\` removes the lock at ${b.where}`);
    if (!(await ask('Remove it? A run still holding it would go on unlocked. [y/N] '))) {
      say('not removed');
      return 1;
    }
  }
  const r = await b.release(found.tag);
  if (r === 'changed') {
    say(`not removed: the lock changed meanwhile (another run took it); run unlock again to see whose it is now`);
    return 1;
  }
  say(r === 'gone' ? 'it was already gone' : `removed the lock at ${b.where}`);
  return 0;
}

/** What unlock would find: the local lock's holder and the remote's, read only. */
async function unlockDryRun(pair: ResolvedPair, say: (line: string) => void): Promise<ExitCode> {
  const local = liveRunOf(locksDir(pair.root), pair.name, [pair.name]);
  const file = readLockInfo(join(locksDir(pair.root), `${pair.name}.lock`));
  say(file ? `the local lock is held by PID ${file.pid} on ${file.host} since ${file.startedAt}${local ? '' : ' (no longer running: unlock would remove it)'}` : 'no local lock');
  const b = backendFor(pair, { redact: redactor(), requestTimeoutMs: lockRequestMs(pair) });
  if ('fallback' in b) say(`${pair.name}: no lock at the remote (${b.fallback})`);
  else {
    const found = await b.read();
    say(found ? `${b.where}: ${found.holder ? describeHolder(found.holder, new Date()) : 'an unreadable lock'}` : `${pair.name}: no lock at ${b.where}`);
  }
  say('--dry-run: nothing was removed');
  return 0;
}
