// find's output kept as slices of the listing the tree was last proved with (issue 12, scale): a
// change run at 1M files held each side's listing twice over (the remembered one to diff with, and
// find's new one; after the transfer a third and fourth), ~73 MB each. Here the new listing is compared
// with the remembered one as it arrives, and only the records that differ are kept as bytes of their
// own; every run of records byte for byte as remembered is a slice of the remembered buffer. So a tree
// costs one copy of its listing, however often it is listed in a run, and the records that differ are
// known (gaps in the reference, own parts of the listing) without a second pass over either.
// The joined parts are always exactly find's output: every slice was compared byte for byte.

/** A listing as find gave it, held as parts over a reference listing. */
export interface RawListing {
  /** In order, joined: find's output. Each starts at a record's start. */
  readonly parts: readonly Buffer[];
  /** The listing the parts were matched against (the remembered one), if any. */
  readonly reference?: Buffer;
  /** [start, end) of the reference not in this listing (its records gone or changed), at record starts. */
  readonly gaps: readonly (readonly [number, number])[];
  /** The parts that are not slices of the reference (records new or changed; all of them without one). */
  readonly own: readonly Buffer[];
  readonly bytes: number;
  /**
   * The listing stopped lining up with its reference (mostly new records, or another order): kept whole
   * as its own bytes, the reference let go (a run that must compare whole listings holds one copy).
   */
  readonly unlined?: true;
}

/** How far into the reference a record is looked for after the listings part (records inserted or removed). */
const WINDOW = 1 << 14;

/** Past this many bytes not lined up with the reference, the rest is kept as it comes (a listing mostly new). */
const MAX_CARRY = 1 << 22;

/** The length of the common prefix of a[i…] and b[j…], compared natively in growing slices. */
function common(a: Buffer, i: number, b: Buffer, j: number): number {
  const max = Math.min(a.length - i, b.length - j);
  if (max > 0 && a.compare(b, j, j + max, i, i + max) === 0) return max;
  let lo = 0;
  let hi = max;
  while (hi - lo > 64) {
    const mid = (lo + hi) >> 1;
    if (a.compare(b, j + lo, j + mid, i + lo, i + mid) === 0) lo = mid;
    else hi = mid;
  }
  while (lo < hi && a[i + lo] === b[j + lo]) lo++;
  return lo;
}

const EMPTY = Buffer.alloc(0);

/** A buffer that grows by doubling (own bytes not yet lined up). */
class Grow {
  buf = Buffer.allocUnsafe(1 << 12);
  length = 0;
  append(b: Buffer): void {
    if (this.length + b.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + b.length) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  view(from = 0, to = this.length): Buffer {
    return this.buf.subarray(from, to);
  }
}

/** Takes find's output piece by piece and keeps it as a RawListing over `reference`. */
export class ListingMatcher {
  private readonly parts: Buffer[] = [];
  private readonly own: Buffer[] = [];
  private readonly gaps: [number, number][] = [];
  private ref: Buffer;
  private unlined = false;
  private mode: 'match' | 'diverged' | 'own';
  /** match: the next reference byte expected; otherwise the first one not accounted for. */
  private r = 0;
  /** Where the current run of matching bytes began in the reference. */
  private runStart = 0;
  /** diverged: the bytes from the first differing record on (own records, then an incomplete one). */
  private carry = new Grow();
  /** How far into carry its complete records were looked for in vain. */
  private scanned = 0;
  /** Bytes of the reference searches may still read (a listing in a new order would cost a window per record). */
  private budget: number;
  private bytes = 0;

  constructor(reference?: Buffer) {
    this.ref = reference ?? Buffer.alloc(0);
    this.mode = this.ref.length ? 'match' : 'own';
    this.budget = Math.max(1 << 22, 8 * this.ref.length);
  }

  push(piece: Buffer): void {
    this.bytes += piece.length;
    if (this.mode === 'own') return this.keepAligned(piece);
    let chunk = piece;
    let at = 0;
    while (at < chunk.length) {
      if (this.owning()) return this.keepAligned(chunk.subarray(at));
      if (this.mode === 'match') {
        const n = common(this.ref, this.r, chunk, at);
        this.r += n;
        at += n;
        if (at === chunk.length) break;
        // Differs here (or the reference ended): back to the record's start, equal in both so far.
        const start = this.recordStart(this.r);
        this.closeRun(start);
        this.carry = new Grow();
        this.carry.append(this.ref.subarray(start, this.r));
        this.scanned = 0;
        this.r = start;
        this.mode = 'diverged';
        continue;
      }
      this.carry.append(chunk.subarray(at));
      at = chunk.length;
      const rest = this.lineUp();
      if (rest) {
        chunk = rest;
        at = 0;
      }
    }
  }

  finish(): RawListing {
    if (this.mode === 'match') {
      const start = this.recordStart(this.r);
      this.closeRun(start);
      // find's output ended inside a record the reference has whole: kept as its own (not find's form).
      if (start < this.r) this.keep(Buffer.from(this.ref.subarray(start, this.r)));
      this.r = start;
    } else if (this.mode === 'diverged' && this.carry.length) this.keep(Buffer.from(this.carry.view()));
    else if (this.tail.length) this.keep(this.tail);
    this.tail = EMPTY;
    if (this.r < this.ref.length) this.gaps.push([this.r, this.ref.length]);
    this.mode = 'own';
    const reference = this.ref.length ? { reference: this.ref } : {};
    if (this.unlined) return { parts: this.parts, gaps: [], own: this.parts, bytes: this.bytes, unlined: true };
    return { parts: this.parts, ...reference, gaps: this.gaps, own: this.own, bytes: this.bytes };
  }

  /** Whether the rest is kept as it comes (lineUp may have given up within a push). */
  private owning(): boolean {
    return this.mode === 'own';
  }

  /** own: an incomplete last record, kept until its end comes (so every part starts at a record's start). */
  private tail = EMPTY;

  /** Keeps a piece as it comes, cut at its last NUL (the rest waits in tail for the next piece). */
  private keepAligned(b: Buffer): void {
    const last = b.lastIndexOf(0);
    if (last < 0) {
      this.tail = Buffer.concat([this.tail, b]);
      return;
    }
    let from = 0;
    if (this.tail.length) {
      const first = b.indexOf(0);
      this.keep(Buffer.concat([this.tail, b.subarray(0, first + 1)]));
      from = first + 1;
    }
    this.keep(b.subarray(from, last + 1));
    this.tail = Buffer.from(b.subarray(last + 1));
  }

  private keep(b: Buffer): void {
    if (!b.length) return;
    this.parts.push(b);
    this.own.push(b);
  }

  private recordStart(at: number): number {
    return at === 0 ? 0 : this.ref.lastIndexOf(0, at - 1) + 1;
  }

  private closeRun(end: number): void {
    if (end > this.runStart) this.parts.push(this.ref.subarray(this.runStart, end));
  }

  /** Where the whole record `rec` (with its NUL) starts in the reference within the window; -1: not there. */
  private find(rec: Buffer): number {
    const window = this.ref.subarray(0, Math.min(this.ref.length, this.r + WINDOW + rec.length));
    this.budget -= Math.max(0, window.length - this.r);
    for (let q = window.indexOf(rec, this.r); q >= 0; q = window.indexOf(rec, q + 1)) {
      if (q === 0 || this.ref[q - 1] === 0) return q;
    }
    return -1;
  }

  /**
   * Looks each complete record of carry up in the reference; at the first found, the records before
   * it are own, the reference up to it a gap, and matching goes on from there with the rest of carry
   * (returned). Too long without an anchor: the rest is kept as it comes.
   */
  private lineUp(): Buffer | undefined {
    let from = this.scanned;
    const carried = this.carry.view();
    // Past the reference's end nothing can line up: the rest is new records (still lined up: no gap follows).
    if (this.r >= this.ref.length) return this.giveUp(false);
    for (let end = carried.indexOf(0, from); end >= 0; end = carried.indexOf(0, from)) {
      const q = this.find(this.carry.view(from, end + 1));
      if (q >= 0) {
        if (from > 0) this.keep(Buffer.from(this.carry.view(0, from)));
        if (q > this.r) this.gaps.push([this.r, q]);
        this.r = q;
        this.runStart = q;
        this.mode = 'match';
        const rest = Buffer.from(this.carry.view(from));
        this.carry = new Grow();
        this.scanned = 0;
        return rest;
      }
      from = end + 1;
      if (this.budget < 0 || from > MAX_CARRY) return this.giveUp(true);
    }
    this.scanned = from;
    return undefined;
  }

  /** The rest is kept as it comes; `unline`: the reference is let go (the slices kept so far copied). */
  private giveUp(unline: boolean): undefined {
    this.mode = 'own';
    if (unline) {
      this.unlined = true;
      for (let i = 0; i < this.parts.length; i++) {
        const p = this.parts[i] as Buffer;
        if (p.buffer === this.ref.buffer) this.parts[i] = Buffer.from(p);
      }
      this.ref = EMPTY;
    }
    const carried = this.carry.view();
    this.carry = new Grow();
    this.keepAligned(Buffer.from(carried));
    return undefined;
  }
}

/** The listing joined (one buffer: the only part, not copied, when there is one). */
export function joinRaw(raw: RawListing): Buffer {
  return raw.parts.length === 1 ? (raw.parts[0] as Buffer) : Buffer.concat(raw.parts as Buffer[], raw.bytes);
}
