// Pure: the host's listing after a transfer in a held session (held.ts), as the patch of its listing
// before needs it (engine/host-after.ts) instead of the whole tree again. Before the line that starts
// the transfer, the engine writes `labsync-touch A B C` and three NUL-separated path lists (A, B, C
// bytes: read with head -c, exact on a pipe, so the relay's copy of rsync's stream that follows is
// not eaten): paths whose record or kind is asked, folders whose entries are counted, folders listed
// whole. The host keeps them in files it unlinks at once (open as fds 6-8: nothing left behind, even
// when the session is killed) and, after rsync --server ended with 0, prints only the answers. A host
// whose find lacks -files0-from (HOST_PROBE's $lsf), or without mktemp, reads the lists off
// and lists whole, as before; the after marker says which it did.
import { findUnderArgv } from '../../verify/find-list.js';
import { cutPerDir } from '../../verify/folder-list.js';
import { pathStart } from '../../verify/listing-records.js';
import { shQuote } from './ssh.js';
import type { AfterAnswers as HostAnswers, AfterKind as HostKind, AfterQuestions as HostQuestions } from '../files.js';

const nul = (paths: readonly string[]): Buffer => Buffer.from(paths.map((p) => `${p}\0`).join(''));
/** find names the tree's root ".". */
const named = (dir: string): string => (dir === '' ? '.' : dir);

/** The lines written to the session's stdin before the transfer's own line. */
export function touchLines(q: HostQuestions): Buffer {
  const lists = [nul(q.paths), nul(q.counts.map(named)), nul(q.lists)];
  return Buffer.concat([Buffer.from(`labsync-touch ${lists.map((b) => b.length).join(' ')}\n`), ...lists]);
}

/**
 * Sets $lsp where the lists are kept (fds 6, 7, 8), then reads the next line into $line; a list cut short
 * (or a line not of this shape) ends the session, as any line the host does not take.
 */
export const STASH = [
  // Three lengths or nothing: a line with fewer would read the lists' bytes wrongly.
  "case $line in 'labsync-touch '*' '*' '*)",
  '  lsq=${line#labsync-touch }; lsa=${lsq%% *}; lsq=${lsq#* }; lsb=${lsq%% *}; lsz=${lsq#* }',
  "  for lsv in \"$lsa\" \"$lsb\" \"$lsz\"; do case $lsv in ''|*[!0-9]*) exit 0 ;; esac; done",
  // An empty list is an empty file (no head started for it).
  '  lsk() { if [ "$1" = 0 ]; then : >"$2"; else head -c "$1" >"$2"; fi; }',
  '  if [ "$lsf" = 2 ] && lsd=$(mktemp -d 2>/dev/null); then',
  '    { lsk "$lsa" "$lsd/p" && lsk "$lsb" "$lsd/c" && lsk "$lsz" "$lsd/l" && exec 6<"$lsd/p" 7<"$lsd/c" 8<"$lsd/l"; } || { rm -rf "$lsd"; exit 0; }',
  '    rm -rf "$lsd"; lsp=1',
  '  else head -c "$((lsa + lsb + lsz))" >/dev/null || exit 0; fi',
  '  IFS= read -r line || exit 0 ;;',
  "'labsync-touch '*) exit 0 ;;",
  'esac',
].join('\n');

/** Between the answers' parts; the last carries the folder listing's exit code. */
const PART = 'labsync-part';

/** A record of find's own listing, for a path given as a starting point (%p is then the path as given). */
const RECORD = '%s %T@ %C@ %i %p\\0';

/** The host's answers, in the tree's root (cd'd into already by the caller's subshell). */
export function answerScript(excludes: readonly string[]): string {
  const [, ...under] = findUnderArgv(excludes).map((w, i) => (i === 0 ? w : shQuote(w)));
  return [
    `[ "$lsa" = 0 ] || find -files0-from - -maxdepth 0 '(' -type f -printf '${RECORD}' -o -type d -printf 'd %p\\0' -o -printf 'o %p\\0' ')' <&6 2>/dev/null`,
    `printf '${PART}\\0'`,
    // "n folder" once per entry, counted here (a folder empty or gone prints none): no stat per entry.
    `[ "$lsb" = 0 ] || find -files0-from - -mindepth 1 -maxdepth 1 -printf 'n %h\\0' <&7 2>/dev/null`,
    `printf '${PART}\\0'`,
    `lsr=0; [ "$lsz" = 0 ] || { find ${under.join(' ')} <&8 2>/dev/null; lsr=$?; }`,
    `printf '${PART} %s\\0' "$lsr"`,
  ].join('; ');
}

/** The host's answers to `q`, from what followed the after marker; undefined: anything not of their shape. */
export function parseAnswers(out: Buffer, q: HostQuestions): HostAnswers | undefined {
  const records: [number, number][] = [];
  for (let at = 0; at < out.length; ) {
    const end = out.indexOf(0, at);
    if (end < 0) return undefined;
    records.push([at, end]);
    at = end + 1;
  }
  const is = (r: [number, number] | undefined, text: string): boolean => !!r && r[1] - r[0] === text.length && out.toString('latin1', r[0], r[1]) === text;
  // Parts 1 and 2 never hold a record "labsync-part" (theirs start with a digit, "d ", "o " or "n ").
  const first = records.findIndex((r) => is(r, PART));
  const second = records.findIndex((r, i) => i > first && is(r, PART));
  const last = records[records.length - 1];
  if (first < 0 || second < 0 || !last || out.toString('latin1', last[0], last[1]) !== `${PART} 0`) return undefined;
  const asked = new Set(q.paths);
  const kinds = new Map<string, HostKind>();
  for (const [s, e] of records.slice(0, first)) {
    const c = out[s];
    if ((c === 100 || c === 111) && out[s + 1] === 32) {
      const path = out.toString('utf8', s + 2, e);
      if (!asked.has(path)) return undefined;
      kinds.set(path, c === 100 ? 'folder' : 'other');
      continue;
    }
    const p = pathStart(out, s, e);
    const path = p < 0 ? undefined : out.toString('utf8', p, e);
    if (path === undefined || !asked.has(path) || !(c !== undefined && c >= 48 && c <= 57)) return undefined;
    kinds.set(path, Buffer.from(out.subarray(s, e + 1)));
  }
  const counts = new Map<string, number>();
  const countAsked = new Set(q.counts);
  for (const [s, e] of records.slice(first + 1, second)) {
    if (out[s] !== 110 || out[s + 1] !== 32) return undefined;
    const name = out.toString('utf8', s + 2, e);
    const dir = name === '.' ? '' : name;
    if (!countAsked.has(dir)) return undefined;
    counts.set(dir, (counts.get(dir) ?? 0) + 1);
  }
  const listed = out.subarray((records[second] as [number, number])[1] + 1, last[0]);
  const cut = cutPerDir(listed, q.lists);
  if (!cut) return undefined;
  return { kinds, counts, lists: new Map(q.lists.map((d, i) => [d, cut[i] as Buffer])) };
}
