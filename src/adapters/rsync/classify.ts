// Pure: rsync's exit code + stderr → ok | retry | fatal. Codes: rsync(1) "EXIT VALUES"; observed ones in TESTBED.md.
import type { Outcome, ToolOutput } from '../types.js';

const TRANSIENT_SSH = /Connection (refused|reset|timed out|closed)|Broken pipe|No route to host|Network is unreachable|connection unexpectedly closed|Could not resolve hostname|Temporary failure in name resolution|kex_exchange_identification/i;

/** The tool's own words, shortened to what a person reads: the last meaningful stderr lines. */
export function excerpt(stderr: string, lines = 3): string {
  const meaningful = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^rsync error: .*\(code \d+\) at /.test(l));
  return meaningful.slice(-lines).join(' | ').slice(0, 500) || stderr.trim().slice(0, 500);
}

export function classify(output: ToolOutput): Outcome {
  const { exitCode, stderr } = output;
  const said = excerpt(stderr);
  if (output.timedOut) return { kind: 'retry', reason: 'timed out' };
  switch (exitCode) {
    case 0:
      return { kind: 'ok' };
    case 24:
      return { kind: 'ok', warning: `some source files vanished during the transfer: ${said}` };
  }
  if (/No space left on device|Disk quota exceeded/i.test(stderr)) {
    return { kind: 'fatal', reason: `disk full at the destination: ${said}`, hint: 'free space at the destination and run again; nothing was deleted' };
  }
  if (/Permission denied \(publickey|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|Too many authentication failures/i.test(stderr)) {
    return { kind: 'fatal', reason: `ssh refused: ${said}`, hint: 'check the remote\'s user, identity and known_hosts (labsync runs ssh with BatchMode=yes)' };
  }
  if (/rsync: (command )?not found|rsync:.*No such file or directory.*\n?.*protocol/i.test(stderr) && exitCode >= 12) {
    return { kind: 'fatal', reason: `rsync is missing on the remote host: ${said}`, hint: 'install rsync on the remote host' };
  }
  if (/\[sender\] (change_dir|link_stat) .* failed: No such file or directory/.test(stderr)) {
    return { kind: 'fatal', reason: `the source does not exist: ${said}`, safety: true };
  }
  const way = /could not make way for new [a-z ]+: (.+)/.exec(stderr);
  if (way) {
    const hint = 'a folder at the destination has the name of a file at the source: a pair with delete: true replaces it (its files deleted, backed up with backup: true) unless it is excluded or holds excluded files, or, over ssh, the pair has more excludes than rsync can give the host (about 40 with every ssh option set); else move or remove it';
    return { kind: 'fatal', reason: `could not replace the folder ${way[1]?.trim()} with the source's file of that name: ${said}`, hint };
  }
  switch (exitCode) {
    case 10: // socket I/O
    case 12: // protocol data stream (the connection dropped)
    case 30: // timeout in data send/receive
    case 35: // timeout waiting for daemon connection
      return { kind: 'retry', reason: said || `rsync exit ${exitCode}` };
    case 20: // SIGUSR1 or SIGINT
      return { kind: 'fatal', reason: 'rsync was interrupted' };
    case 25:
      return { kind: 'fatal', reason: `rsync stopped at its --max-delete limit: ${said}` };
    case 255:
      return TRANSIENT_SSH.test(stderr)
        ? { kind: 'retry', reason: said || 'ssh connection failed' }
        : { kind: 'fatal', reason: said || 'ssh failed (exit 255)' };
  }
  if (TRANSIENT_SSH.test(stderr)) return { kind: 'retry', reason: said };
  return { kind: 'fatal', reason: said || `rsync exit ${exitCode}` };
}
