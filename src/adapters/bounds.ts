// The tools' own waits, bounded by the pair's stall_timeout where the tool lets us: the watchdog
// ends a stalled transfer, these end what it does not watch (listings, dry runs, verification) and
// make the tool's own error name the cause. README: stall_timeout.

/** Whole seconds of a pair's stall_timeout, at least 1. */
export function stallSeconds(stallTimeoutMs: number): number {
  return Math.max(1, Math.ceil(stallTimeoutMs / 1000));
}

/**
 * ssh keepalives: a peer silent for about 1.5 × stall_timeout drops the connection (a silent peer never
 * closes it). Answered by sshd itself, so a far side busy checksumming is still alive.
 * https://man.openbsd.org/ssh_config#ServerAliveInterval
 */
export function sshKeepAlive(stallTimeoutMs: number): string[] {
  const interval = Math.max(1, Math.ceil(stallSeconds(stallTimeoutMs) / 2));
  return ['-o', `ServerAliveInterval=${interval}`, '-o', 'ServerAliveCountMax=3'];
}
