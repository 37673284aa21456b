import { readdirSync, readFileSync } from 'node:fs';

/** Live (non-zombie) processes whose command line mentions `needle`. */
export function processesMentioning(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
      if (state !== 'Z' && cmdline.includes(needle)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whether `pid` is `ancestor` or runs under it (a loopback sshd's sessions: the host's side, not this machine's client). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    try {
      p = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** Kill only a PID we started, and only while its command line is still ours (PIDs get reused). */
export function killExact(pid: number, needle: string, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    if (cmdline.includes(needle)) process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Resolves once `pid` has exited (or is no longer ours), SIGKILLing it after `ms`: a server is stopped,
 * not just signalled, before its folder goes (one still exiting may write in it). Polled: the test
 * runner reaps the children it started between polls.
 */
export async function exited(pid: number, needle: string, ms = 10_000): Promise<void> {
  const alive = (): boolean => {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
      return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle);
    } catch {
      return false;
    }
  };
  for (const [signal, end] of [[undefined, Date.now() + ms], ['SIGKILL', Date.now() + ms + 2_000]] as const) {
    if (signal && alive()) killExact(pid, needle, signal);
    while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Resolves once no live (non-zombie) process is left in process group `pgid`; rejects after `ms` naming
 * those left. For a group already killed: a killed group's members are gone within moments.
 */
export async function groupExited(pgid: number, what: string, ms: number): Promise<void> {
  const members = (): number[] => {
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // After the command's closing paren: state, ppid, pgrp.
        const [state, , pgrp] = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
        if (state !== 'Z' && Number(pgrp) === pgid) found.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return found;
  };
  const end = Date.now() + ms;
  for (let left = members(); left.length > 0; left = members()) {
    if (Date.now() > end) throw new Error(`${what} (process group ${pgid}) still has processes ${left.join(', ')} ${ms} ms after it was killed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An OpenSSH ControlMaster kept in the background: its title is `ssh: <ControlPath> [mux]`. */
export const isKeptMaster = (p: { cmdline: string }): boolean => /^ssh: .* \[mux\]\s*$/.test(p.cmdline);

/** The kept ssh masters whose socket lies under `folder` (a lab's HOME: labsync's socket folder is in it). */
export const keptMasters = (folder: string): { pid: number; cmdline: string }[] => processesMentioning(folder).filter(isKeptMaster);

/** Processes mentioning `needle` other than kept ssh masters, which outlive a run by design (engine/ssh-keep.ts). */
export const processesLeft = (needle: string): { pid: number; cmdline: string }[] => processesMentioning(needle).filter((p) => !isKeptMaster(p));
