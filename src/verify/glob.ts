// Exclude patterns as rsync and rclone read them: no leading "/" matches at any depth, "*" stays
// within one path segment, "**" crosses segments, a trailing "/" means folders only, "[a-z]" and
// "[!a-z]" are one character of a class (never "/"), a backslash takes the next character as it is, and a
// pattern with an unclosed "[" matches nothing (rsync's wildmatch).
// (A review found "[" read literally here while rsync read a class: a file one side excluded, the
// other listed, sent or deleted.)

const literal = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** POSIX classes rsync's wildmatch knows, as members of a JS class. */
const POSIX = new Map<string, string>([
  ['alnum', 'a-zA-Z0-9'], ['alpha', 'a-zA-Z'], ['blank', ' \\t'], ['cntrl', '\\x00-\\x1f\\x7f'], ['digit', '0-9'], ['graph', '!-~'],
  ['lower', 'a-z'], ['print', ' -~'], ['punct', '!-\\/:-@\\[-`{-~'], ['space', ' \\t\\n\\r\\f\\v'], ['upper', 'A-Z'], ['xdigit', '0-9A-Fa-f'],
]);

/** Where the class opened at `open` closes ("]" first, or after "!"/"^", is a member; "\\]" and "[:x:]" too); -1: no class. */
export function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern.startsWith('[:', i) && pattern.indexOf(':]', i + 2) > 0) i = pattern.indexOf(':]', i + 2) + 1;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}

/** One member of a class: a character, a range, or a POSIX class name. */
export type ClassItem = { readonly char: string } | { readonly from: string; readonly to: string } | { readonly posix: string };

/**
 * A class's text between its brackets, as rsync's wildmatch reads it: negated by "!" or "^", "\\"
 * escapes, a reversed range holds only its first character, "/" is never a member. undefined: it
 * matches no name at all (an unknown [:name:]).
 */
export function parseClass(inner: string): { negated: boolean; items: ClassItem[] } | undefined {
  const negated = inner.startsWith('!') || inner.startsWith('^');
  const m = negated ? inner.slice(1) : inner;
  const items: ClassItem[] = [];
  const take = (i: number): [string, number] => (m[i] === '\\' && i + 1 < m.length ? [m[i + 1] as string, i + 1] : [m[i] as string, i]);
  for (let i = 0; i < m.length; i++) {
    if (m.startsWith('[:', i) && m.indexOf(':]', i + 2) > 0) {
      const close = m.indexOf(':]', i + 2);
      const name = m.slice(i + 2, close);
      if (!POSIX.has(name)) return undefined;
      items.push({ posix: name });
      i = close + 1;
      continue;
    }
    const [c, at] = take(i);
    if (m[at + 1] === '-' && at + 2 < m.length) {
      const [d, to] = take(at + 2);
      items.push(d >= c ? { from: c, to: d } : { char: c });
      i = to;
      continue;
    }
    if (c !== '/') items.push({ char: c });
    i = at;
  }
  return { negated, items };
}

/** A class as a JS one that never matches "/"; nothing left, or an unknown [:name:]: matches nothing. */
function classOf(inner: string): string {
  const parsed = parseClass(inner);
  if (!parsed) return '(?!)';
  const out = parsed.items.map((it) => ('posix' in it ? POSIX.get(it.posix) : 'from' in it ? `${literal(it.from)}-${literal(it.to)}` : literal(it.char))).join('');
  if (parsed.negated) return `[^/${out}]`;
  return out ? `(?:(?!/)[${out}])` : '(?!)';
}

/** A pattern with none of * ? [ is compared as it is, a backslash too (rsync compares it with strcmp). */
export const isPlainPattern = (pattern: string): boolean => !/[*?[]/.test(pattern);

/**
 * A wildcard pattern whose last character before any trailing '/' is an unpaired backslash: rsync matches
 * nothing with it (the backslash escapes nothing), where this matcher reads a backslash in the name. The
 * manifest refuses it (manifest/rules.ts); rsync's argv never builds on it (adapters/rsync/argv.ts).
 */
export function loneBackslashAtEnd(pattern: string): boolean {
  const base = pattern.replace(/\/+$/, '');
  return !isPlainPattern(base) && /(^|[^\\])(\\\\)*\\$/.test(base);
}

function body(pattern: string): string {
  if (isPlainPattern(pattern)) return [...pattern].map(literal).join('');
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) out += literal(pattern[++i] as string);
    else if (c === '[' && classEnd(pattern, i) > 0) {
      const end = classEnd(pattern, i);
      out += classOf(pattern.slice(i + 1, end));
      i = end;
    } else if (c === '[') return '(?!)'; // rsync's wildmatch: an unclosed class matches no name at all
    else out += literal(c);
  }
  return out;
}

export interface Matcher {
  /** `path` is relative, with "/" separators. */
  excludes(path: string, isDir: boolean): boolean;
}

/**
 * The pattern less an unanchored leading "**\u002f" with a name after it, which may match no folder at
 * all as rsync 3.5 reads it: `**\u002f*.tmp` takes a top-level a.tmp too (review 43: every push had called it
 * missing), i.e. the rest matched at any depth. Anchored (`/**\u002fx`) it needs a folder, and only the
 * first "**\u002f" may match none (review 44, both checked with rsync -n). One reading for labsync's matcher
 * and for what rclone and aws are given.
 */
export function atAnyDepth(pattern: string): string {
  return /^\*\*\/[^/]/.test(pattern) ? pattern.slice(3) : pattern;
}

export function compileExcludes(patterns: readonly string[]): Matcher {
  const rules = patterns.map((p) => {
    const dirOnly = p.endsWith('/');
    const anchored = p.startsWith('/');
    const core = atAnyDepth(p).replace(/^\/+/, '').replace(/\/+$/, '');
    return { dirOnly, re: new RegExp(`${anchored ? '^' : '(^|/)'}${body(core)}$`) };
  });
  return { excludes: (path, isDir) => rules.some((r) => (!r.dirOnly || isDir) && r.re.test(path)) };
}
