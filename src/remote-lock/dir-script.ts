// Pure: a lock folder on a POSIX filesystem, each operation one sh script (so an ssh host needs
// nothing installed, and one operation is one connection). mkdir(2) is atomic: exactly one of two
// racing runs creates the folder. A takeover renames the stale folder aside (rename(2) is atomic
// too), checks it is the stale holder it read, and only then removes it and creates its own.
import { posix } from 'node:path';
import { shQuote } from '../adapters/rsync/ssh.js';
import { REMOTE_LOCK_NAME, type Holder } from './holder.js';

/** Every script ends by printing one of these after `labsync-lock `. */
export type DirAnswer = 'ok' | 'exists' | 'changed' | 'lost' | 'gone' | 'none' | 'found' | 'nodir' | 'notools';

export const lockDir = (remotePath: string): string => posix.join(remotePath, REMOTE_LOCK_NAME);

const say = (a: DirAnswer): string => `echo 'labsync-lock ${a}'`;
// Shell builtins and cat only: a bare host's PATH may lack grep and dirname.
const holds = (file: string, token: string): string => `case "$(cat -- "${file}" 2>/dev/null)" in *${shQuote(`"token":"${token}"`)}*) true;; *) false;; esac`;
const owns = (token: string): string => holds('$D/holder', token);
// The holder is written beside and renamed into place: a reader sees a whole record or the old one.
const write = (h: Holder): string => `printf '%s' ${shQuote(JSON.stringify(h))} > "$D/holder.tmp" && mv -f -- "$D/holder.tmp" "$D/holder"`;
// `up`: a path's parent without dirname. A host without mv, rm or rmdir cannot hold a lock: said before anything is made.
const head = (dir: string): string =>
  `D=${shQuote(dir)}; up() { case "$1" in */*) set -- "\${1%/*}"; echo "\${1:-/}";; *) echo .;; esac; }; ` +
  `for c in mkdir mv rm rmdir cat; do command -v "$c" >/dev/null 2>&1 || { echo 'labsync-lock notools'; exit 0; }; done`;
// The topmost folder the lock had to make (a first push): kept in the lock folder, so a release leaves
// no empty folders behind a run that wrote nothing (a refusal, a failure).
const create = (h: Holder, ifExists: DirAnswer): string =>
  `P=$(up "$D"); M=; Q=$P; while [ ! -d "$Q" ] && [ "$Q" != / ] && [ "$Q" != . ]; do M=$Q; Q=$(up "$Q"); done; ` +
  `mkdir -p -- "$P" && if mkdir -- "$D" 2>/dev/null; then printf '%s' "$M" > "$D/made" && ${write(h)} && ${say('ok')}; else ${say(ifExists)}; fi`;
const unmake = 'if [ -n "$M" ]; then Q=$(up "$D"); while rmdir -- "$Q" 2>/dev/null && [ "$Q" != "$M" ]; do Q=$(up "$Q"); done; fi';

export function dirScript(dir: string, op: { kind: 'read' } | { kind: 'acquire'; holder: Holder; makeFolder?: boolean } | { kind: 'takeover'; holder: Holder; staleToken: string } | { kind: 'renew'; holder: Holder; token: string } | { kind: 'release'; token: string | undefined }): string {
  switch (op.kind) {
    case 'read':
      // The holder's age by the host's own clock (GNU or BSD stat; nothing printed where neither answers).
      return [head(dir), `if [ -d "$D" ]; then m=$(stat -c %Y -- "$D/holder" 2>/dev/null || stat -f %m -- "$D/holder" 2>/dev/null); n=$(date +%s 2>/dev/null); case "$m$n" in *[!0-9]*|'') ;; *) echo "labsync-lock-age $((n - m))";; esac; ${say('found')}; cat -- "$D/holder" 2>/dev/null; else ${say('none')}; fi`].join('; ');
    case 'acquire':
      // A pull from a remote folder that is not there: nothing to lock, and nothing is made.
      return [head(dir), ...(op.makeFolder === false ? [`[ -d "$(up "$D")" ] || { ${say('nodir')}; exit 0; }`] : []), create(op.holder, 'exists')].join('; ');
    case 'takeover':
      return [
        head(dir), 'A="$D.stale.$$"',
        `mv -- "$D" "$A" 2>/dev/null || { ${say('changed')}; exit 0; }`,
        // Not the stale holder read a moment ago (another run took over first): put it back.
        `if ${holds('$A/holder', op.staleToken)}; then rm -rf -- "$A"; ${create(op.holder, 'changed')}; else mv -- "$A" "$D" 2>/dev/null || rm -rf -- "$A"; ${say('changed')}; fi`,
      ].join('; ');
    case 'renew':
      return [head(dir), `if ${owns(op.token)}; then ${write(op.holder)} && ${say('ok')}; else ${say('lost')}; fi`].join('; ');
    case 'release':
      return [
        head(dir), `[ -d "$D" ] || { ${say('gone')}; exit 0; }`,
        ...(op.token === undefined ? [] : [`${owns(op.token)} || { ${say('changed')}; exit 0; }`]),
        `M=$(cat -- "$D/made" 2>/dev/null); rm -rf -- "$D" && { ${unmake}; ${say('ok')}; }`,
      ].join('; ');
  }
}

/** The answer word and what followed it (the holder's text, for `read`); `ageS`: the holder's age in seconds by the host's clock, where it said. */
export function parseAnswer(stdout: string): { answer: DirAnswer; rest: string; ageS?: number } | undefined {
  const m = /^labsync-lock (ok|exists|changed|lost|gone|none|found|nodir|notools)\n?([\s\S]*)$/m.exec(stdout);
  const age = /^labsync-lock-age (-?\d+)$/m.exec(stdout.slice(0, m?.index ?? 0));
  return m ? { answer: m[1] as DirAnswer, rest: m[2] ?? '', ...(age ? { ageS: Number(age[1]) } : {}) } : undefined;
}
