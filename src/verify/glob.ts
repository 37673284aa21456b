// Exclude patterns as rsync and rclone read them: no leading "/" matches at any depth, "*" stays
// within one path segment, "**" crosses segments, a trailing "/" means folders only.

function body(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
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
