// Exclude patterns as rsync and rclone read them: no leading "/" matches at any depth, "*" stays
// within one path segment, "**" crosses segments, a trailing "/" means folders only, "[a-z]" and
// "[!a-z]" are one character of a class (never "/"), a backslash takes the next character as it is, and a
// pattern with an unclosed "[" matches nothing (rsync's wildmatch).
// (A review found "[" read literally here while rsync read a class: a file one side excluded, the
// other listed, sent or deleted.)

const literal = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** POSIX classes rsync's wildmatch knows, as members of a JS class. */
const POSIX: Readonly<Record<string, string>> = {
  alnum: 'a-zA-Z0-9', alpha: 'a-zA-Z', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9', graph: '!-~',
  lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: ' \\t\\n\\r\\f\\v', upper: 'A-Z', xdigit: '0-9A-Fa-f',
};

/** Where the class opened at `open` closes ("]" first, or after "!"/"^", is a member; "\\]" and "[:x:]" too); -1: no class. */
function classEnd(pattern: string, open: number): number {
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

/** A class as a JS one that never matches "/"; an unknown [:name:] or nothing left: matches nothing (rsync). */
function classOf(inner: string): string {
  const negated = inner.startsWith('!') || inner.startsWith('^');
  const m = negated ? inner.slice(1) : inner;
  let out = '';
  const take = (i: number): [string, number] => (m[i] === '\\' && i + 1 < m.length ? [m[i + 1] as string, i + 1] : [m[i] as string, i]);
  for (let i = 0; i < m.length; i++) {
    if (m.startsWith('[:', i) && m.indexOf(':]', i + 2) > 0) {
      const close = m.indexOf(':]', i + 2);
      const members = POSIX[m.slice(i + 2, close)];
      if (members === undefined) return '(?!)';
      out += members;
      i = close + 1;
      continue;
    }
    const [c, at] = take(i);
    if (m[at + 1] === '-' && at + 2 < m.length) {
      const [d, to] = take(at + 2);
      // A reversed range holds only its first character (rsync's wildmatch); a JS class would throw.
      out += d >= c ? `${literal(c)}-${literal(d)}` : literal(c);
      i = to;
      continue;
    }
    if (c !== '/') out += literal(c);
    i = at;
  }
  if (negated) return `[^/${out}]`;
  return out ? `(?:(?!/)[${out}])` : '(?!)';
}

function body(pattern: string): string {
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

export function compileExcludes(patterns: readonly string[]): Matcher {
  const rules = patterns.map((p) => {
    const dirOnly = p.endsWith('/');
    const anchored = p.startsWith('/');
    const core = p.replace(/^\/+/, '').replace(/\/+$/, '');
    return { dirOnly, re: new RegExp(`${anchored ? '^' : '(^|/)'}${body(core)}$`) };
  });
  return { excludes: (path, isDir) => rules.some((r) => (!r.dirOnly || isDir) && r.re.test(path)) };
}
