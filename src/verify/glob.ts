// Exclude patterns as rsync and rclone read them: no leading "/" matches at any depth, "*" stays
// within one path segment, "**" crosses segments, a trailing "/" means folders only, "[a-z]" and
// "[!a-z]" are one character of a class (never "/"), a backslash takes the next character as it is, and a
// pattern with an unclosed "[" matches nothing (rsync's wildmatch).
// (A review found "[" read literally here while rsync read a class: a file one side excluded, the
// other listed, sent or deleted.)

const literal = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Where the class opened at `open` closes ("]" first, or after "!"/"^", is a member); -1: no class. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  return pattern.indexOf(']', i);
}

function classOf(inner: string): string {
  const negated = inner.startsWith('!') || inner.startsWith('^');
  const members = negated ? inner.slice(1) : inner;
  let out = '';
  for (let i = 0; i < members.length; i++) {
    const c = members[i] as string;
    // A range keeps its dash; anything else is the character itself.
    out += c === '-' && i > 0 && i < members.length - 1 ? '-' : literal(c);
  }
  return negated ? `[^/${out}]` : `[${out}]`;
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
