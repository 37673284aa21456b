// Which PID namespace a lock's PID belongs to. Two containers on one kernel share the boot id, and may
// share the hostname (the host's UTS namespace): a PID read in one says nothing about the other (PID 1
// is alive in both). A lock is judged by its PID only where it was taken in this PID namespace.
import { readlinkSync } from 'node:fs';

function readPidNs(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return ''; // no /proc (not Linux): the PID is judged as before
  }
}

/** This process's PID namespace ("pid:[4026531836]"), '' where it cannot be read. */
export const PID_NS = readPidNs();

/** Whether a PID recorded with namespace `ns` can be looked up here (a lock without one: as before, yes). */
export const samePidSpace = (ns: string | undefined): boolean => !ns || !PID_NS || ns === PID_NS;
