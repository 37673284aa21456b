// A hash cache's rows lined up with a tree's listing: typed arrays indexed as the listing's paths are
// (~70 bytes a file: no string, object or map entry per file), filled from the cache file or by hashing.
import type { Row } from './cache-file.js';
import { byteOrder } from './walk.js';

/** The tree's listing the cache lines up with: paths in byte order (the file's order too). */
export interface Listed { readonly paths: readonly string[] }

const HAS_ROW = 1;
const HAS_SHA = 2;
const HAS_MD5 = 4;

export class ListedRows {
  private cursor = 0;
  readonly n: number;
  readonly paths: readonly string[];
  private readonly flags: Uint8Array;
  private readonly keys: Float64Array;
  private readonly sha: Buffer;
  private md5: Buffer | undefined;
  /** etag and its part size, for the few files that have one. */
  private readonly etags = new Map<number, [string, number]>();

  constructor(listing: Listed | undefined) {
    this.paths = listing?.paths ?? [];
    this.n = this.paths.length;
    this.flags = new Uint8Array(this.n);
    this.keys = new Float64Array(this.n * 4);
    this.sha = Buffer.alloc(this.n * 32);
  }

  /** Whether a row is remembered at `i`. */
  has(i: number): boolean {
    return (this.flags[i] as number) !== 0;
  }

  /** Rows remembered. */
  count(): number {
    let rows = 0;
    for (let i = 0; i < this.n; i++) if (this.flags[i]) rows++;
    return rows;
  }

  /** The next lookups start from the listing's top again. */
  rewind(): void {
    this.cursor = 0;
  }

  /** Row `i` of `from` copied to slot `j` here, as it is. */
  copy(from: ListedRows, i: number, j: number): void {
    const f = from.flags[i] as number;
    this.keys.set(from.keys.subarray(i * 4, i * 4 + 4), j * 4);
    from.sha.copy(this.sha, j * 32, i * 32, i * 32 + 32);
    if (f & HAS_MD5 && from.md5) from.md5.copy((this.md5 ??= Buffer.alloc(this.n * 16)), j * 16, i * 16, i * 16 + 16);
    const e = from.etags.get(i);
    if (e) this.etags.set(j, e);
    this.flags[j] = f;
  }

  clear(): void {
    this.flags.fill(0);
    this.etags.clear();
    this.md5 = undefined;
  }

  /** Nothing remembered at `i` any more. */
  forget(i: number): void {
    this.flags[i] = 0;
    this.etags.delete(i);
  }

  set(i: number, r: Row): void {
    this.keys[i * 4] = r[1];
    this.keys[i * 4 + 1] = r[2];
    this.keys[i * 4 + 2] = r[3];
    this.keys[i * 4 + 3] = r[4];
    let f = HAS_ROW;
    if (r[5]) {
      this.sha.write(r[5], i * 32, 'hex');
      f |= HAS_SHA;
    }
    if (r[6]) {
      (this.md5 ??= Buffer.alloc(this.n * 16)).write(r[6], i * 16, 'hex');
      f |= HAS_MD5;
    }
    if (r[7]) this.etags.set(i, [r[7], r[8]]);
    else this.etags.delete(i);
    this.flags[i] = f;
  }

  rowAt(i: number): Row {
    const f = this.flags[i] as number;
    const e = this.etags.get(i);
    return [
      this.paths[i] as string, this.keys[i * 4] as number, this.keys[i * 4 + 1] as number, this.keys[i * 4 + 2] as number, this.keys[i * 4 + 3] as number,
      f & HAS_SHA ? this.sha.toString('hex', i * 32, i * 32 + 32) : '', f & HAS_MD5 && this.md5 ? this.md5.toString('hex', i * 16, i * 16 + 16) : '',
      e?.[0] ?? '', e?.[1] ?? 0,
    ];
  }

  /** Whether the row at `i` was remembered for exactly the stat key at `keys[at * 4…]`. */
  matches(i: number, keys: Float64Array, at: number): boolean {
    const k = this.keys;
    return ((this.flags[i] as number) & HAS_ROW) !== 0 && k[i * 4] === keys[at * 4] && k[i * 4 + 1] === keys[at * 4 + 1] && k[i * 4 + 2] === keys[at * 4 + 2] && k[i * 4 + 3] === keys[at * 4 + 3];
  }

  /** Whether the row at `i` holds a sha256 taken under exactly the key at `keys[at * 4…]`. */
  hasShaFor(i: number, keys: Float64Array, at: number): boolean {
    return ((this.flags[i] as number) & HAS_SHA) !== 0 && this.matches(i, keys, at);
  }

  /** A sha256-only row at `i` from bytes (`digests[from…from + 32]`), keyed by `keys[at * 4…]`: no hex string built. */
  setSha(i: number, keys: Float64Array, at: number, digests: Uint8Array, from: number): void {
    // Element by element: a subarray per file (a Buffer's especially) cost more than the copy.
    for (let k = 0; k < 4; k++) this.keys[i * 4 + k] = keys[at * 4 + k] as number;
    for (let b = 0; b < 32; b++) this.sha[i * 32 + b] = digests[from + b] as number;
    if (this.etags.size) this.etags.delete(i);
    this.flags[i] = HAS_ROW | HAS_SHA;
  }

  /** Every slot's sha256 bytes, 32 per slot (the buffer itself: read, never kept). */
  shaBytes(): Buffer {
    return this.sha;
  }

  /** The sha256 at `i`, '' when the row has none. */
  shaAt(i: number): string {
    return (this.flags[i] as number) & HAS_SHA ? this.sha.toString('hex', i * 32, i * 32 + 32) : '';
  }

  /** The listing's index of `path`: lookups come in listing order, so the next slot is tried before a search. */
  indexOf(path: string): number {
    if (!this.n) return -1;
    if (this.paths[this.cursor] === path) return this.cursor;
    if (this.paths[this.cursor + 1] === path) return ++this.cursor;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = byteOrder(this.paths[mid] as string, path);
      if (c === 0) return (this.cursor = mid);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
