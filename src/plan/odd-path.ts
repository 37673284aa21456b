// Pure: a remote key that is no plain relative file name. An object store keeps `a/../b`, `a//b`,
// `./a` or `/a` as written; a URL or a local path made from it names another object or file (a URL
// parser resolves dot segments, also when percent-encoded; path.join climbs out of the folder).
const ODD = /\/(\.{0,2})\//;

/** The key has an empty, "." or ".." segment (a leading or trailing slash makes an empty one). */
export const hasOddSegment = (path: string): boolean => ODD.test(`/${path}/`);

/** The first planned path that is no plain relative file name, if any. */
export function firstOdd(paths: Iterable<string>): string | undefined {
  for (const p of paths) if (hasOddSegment(p)) return p;
  return undefined;
}
