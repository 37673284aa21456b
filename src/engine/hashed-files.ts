// What hashOn read, held by the index of the path it was asked for: stat keys in a Float64Array and
// digests as bytes. A whole comparison at 1M files read every destination file; two maps of a hex
// string and a key tuple per file held ~0.2 GB there (docs/speed-notes.md).
import type { Key } from './sides.js';

const HAS_KEY = 1;
const HAS_SHA = 2;

export class HashedFiles {
  private readonly flags: Uint8Array;
  /** Four numbers per asked path (size, mtime, ctime, inode), where it was read. */
  readonly keys: Float64Array;
  /** 32 bytes per asked path: its sha256, where read. */
  readonly digests: Buffer;
  private cursor = 0;
  private sorted: boolean | undefined;
  private byPath: Map<string, number> | undefined;

  constructor(readonly paths: readonly string[]) {
    this.flags = new Uint8Array(paths.length);
    this.keys = new Float64Array(paths.length * 4);
    this.digests = Buffer.alloc(paths.length * 32);
  }

  /** The file asked for at `i` was read under `key`, with `sha256` (hex; '' when none was taken). */
  set(i: number, key: ArrayLike<number>, sha256: string): void {
    for (let k = 0; k < 4; k++) this.keys[i * 4 + k] = key[k] as number;
    let f = HAS_KEY;
    if (sha256) {
      this.digests.write(sha256, i * 32, 'hex');
      f |= HAS_SHA;
    }
    this.flags[i] = f;
  }

  /** The file asked for at `i` was read under `keys[at * 4…]`, with the sha256 at `digests[at * 32…]`. */
  setBytes(i: number, keys: Float64Array, at: number, digests: Uint8Array): void {
    for (let k = 0; k < 4; k++) this.keys[i * 4 + k] = keys[at * 4 + k] as number;
    for (let b = 0; b < 32; b++) this.digests[i * 32 + b] = digests[at * 32 + b] as number;
    this.flags[i] = HAS_KEY | HAS_SHA;
  }

  /** Whether the file asked for at `i` was read (not gone meanwhile). */
  readAt(i: number): boolean {
    return ((this.flags[i] as number) & HAS_KEY) !== 0;
  }

  hasShaAt(i: number): boolean {
    return ((this.flags[i] as number) & HAS_SHA) !== 0;
  }

  keyAt(i: number): Key {
    const k = this.keys;
    return [k[i * 4] as number, k[i * 4 + 1] as number, k[i * 4 + 2] as number, k[i * 4 + 3] as number];
  }

  shaAt(i: number): string {
    return this.hasShaAt(i) ? this.digests.toString('hex', i * 32, i * 32 + 32) : '';
  }

  /** sha256 of `path` as read now ('' read without one); undefined: not asked, or gone. */
  sha(path: string): string | undefined {
    const i = this.indexOf(path);
    return i >= 0 && this.readAt(i) ? this.shaAt(i) : undefined;
  }

  /** The key `path` was read under; undefined: not asked, or gone. */
  key(path: string): Key | undefined {
    const i = this.indexOf(path);
    return i >= 0 && this.readAt(i) ? this.keyAt(i) : undefined;
  }

  /** Every file read: path, key, sha256. */
  *entries(): Generator<[path: string, key: Key, sha256: string]> {
    for (let i = 0; i < this.paths.length; i++) if (this.readAt(i)) yield [this.paths[i] as string, this.keyAt(i), this.shaAt(i)];
  }

  /**
   * Callers ask in the order they asked to hash (listing order): the next index is tried first, then a
   * binary search where the asked paths were in ascending order, else a map built once.
   */
  private indexOf(path: string): number {
    const ps = this.paths;
    const n = ps.length;
    if (!n) return -1;
    if (ps[this.cursor] === path) return this.cursor;
    if (this.cursor + 1 < n && ps[this.cursor + 1] === path) return ++this.cursor;
    if (this.sorted === undefined) {
      this.sorted = true;
      for (let i = 1; i < n && this.sorted; i++) this.sorted = (ps[i - 1] as string) < (ps[i] as string);
    }
    if (!this.sorted) {
      if (!this.byPath) {
        this.byPath = new Map();
        ps.forEach((p, i) => this.byPath?.set(p, i));
      }
      const i = this.byPath.get(path);
      return i === undefined ? -1 : (this.cursor = i);
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = ps[mid] as string;
      if (p === path) return (this.cursor = mid);
      if (p < path) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
