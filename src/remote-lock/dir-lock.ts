// A lock folder, through whatever runs its scripts: `sh` for a local remote, one ssh call for an ssh host.
import { parseHolder } from './holder.js';
import { dirScript, lockDir, parseAnswer, type DirAnswer } from './dir-script.js';
import { NothingToLockError, type LockBackend } from './types.js';

/** Runs one script; resolves with its stdout, throws (naming the host or path) when it could not run. */
export type RunScript = (script: string) => Promise<string>;

export function dirLock(where: string, remotePath: string, runScript: RunScript, makeFolder = true): LockBackend {
  const dir = lockDir(remotePath);
  const ask = async (script: string, expected: readonly DirAnswer[]): Promise<{ answer: DirAnswer; rest: string; ageS?: number }> => {
    const out = await runScript(script);
    const a = parseAnswer(out);
    if (a?.answer === 'notools') throw new NothingToLockError(`the host's shell lacks mkdir, mv, rm, rmdir or cat`);
    if (!a || !expected.includes(a.answer)) throw new Error(`the lock folder ${where} answered: ${out.trim().slice(0, 200) || '(nothing)'}`);
    return a;
  };
  return {
    where,
    async read() {
      const a = await ask(dirScript(dir, { kind: 'read' }), ['found', 'none']);
      if (a.answer === 'none') return undefined;
      const holder = parseHolder(a.rest);
      return { holder, tag: holder?.token ?? '', ...(a.ageS !== undefined && a.ageS > -5 ? { age: Math.max(0, a.ageS) * 1000 } : {}) };
    },
    async acquire(h) {
      const a = await ask(dirScript(dir, { kind: 'acquire', holder: h, makeFolder }), ['ok', 'exists', 'nodir']);
      if (a.answer === 'nodir') throw new NothingToLockError(`${remotePath} does not exist`);
      return a.answer === 'ok' ? { ok: h.token } : 'exists';
    },
    async takeOver(h, stale) {
      const a = await ask(dirScript(dir, { kind: 'takeover', holder: h, staleToken: stale.tag }), ['ok', 'changed']);
      return a.answer === 'ok' ? { ok: h.token } : 'changed';
    },
    async renew(h, tag) {
      const a = await ask(dirScript(dir, { kind: 'renew', holder: h, token: tag }), ['ok', 'lost']);
      return a.answer === 'ok' ? { ok: tag } : 'lost';
    },
    async release(tag) {
      const a = await ask(dirScript(dir, { kind: 'release', token: tag }), ['ok', 'changed', 'gone']);
      return a.answer as 'ok' | 'changed' | 'gone';
    },
  };
}
