// One unit of work for a hash worker: stat or hash a list of files under one root. Results travel as
// flat arrays (a Float64Array of stat keys is transferred, not copied): one object per file cost more
// to clone between threads than the stat call itself.
import { lstatSync } from 'node:fs';
import { hashFileSync, putKey, sha256IntoSync } from './hash-file.js';

export interface Batch {
  readonly op: 'stat' | 'hash';
  /** Empty: `paths` are absolute. */
  readonly root: string;
  /** Relative to root, "/"-separated. */
  readonly paths: readonly string[];
  readonly sha256?: boolean;
  readonly md5?: boolean;
  readonly etagPartSize?: number;
  readonly etagThreshold?: number;
  /** sha256 alone, as bytes (`shaBytes`) rather than hex strings: the early reads of a first push. */
  readonly sha256Bytes?: boolean;
}

export type BatchError = [index: number, code: string, message: string];

/** The file went away between the folder listing and the read: not there, rather than unreadable. */
export const vanished = (e: BatchError): boolean => e[1] === 'ENOENT' || e[1] === 'ENOTDIR';

export interface BatchResult {
  /** [size, mtimeMs, ctimeMs, ino] per file. A NaN size: the file is gone (or no longer a file), or see `errors`. */
  readonly keys: Float64Array;
  readonly sha256?: string[];
  readonly md5?: string[];
  readonly etag?: string[];
  /** With `sha256Bytes`: 32 bytes per file (zeros where it could not be read), transferred rather than copied. */
  readonly shaBytes?: Uint8Array;
  /** [index, errno code, message] for files that could not be read; code ENOENT/ENOTDIR: gone meanwhile. */
  readonly errors: BatchError[];
}

const failure = (i: number, error: unknown): BatchError => [i, (error as NodeJS.ErrnoException).code ?? '', (error as Error).message];

function statBatch(b: Batch, keys: Float64Array, errors: BatchError[]): void {
  b.paths.forEach((p, i) => {
    try {
      const s = lstatSync(b.root ? `${b.root}/${p}` : p, { throwIfNoEntry: false });
      if (s?.isFile()) putKey(keys, i, s);
      else keys[i * 4] = Number.NaN;
    } catch (error) {
      keys[i * 4] = Number.NaN;
      errors.push(failure(i, error));
    }
  });
}

export function runBatch(b: Batch, buffer: Buffer): BatchResult {
  const keys = new Float64Array(b.paths.length * 4);
  const errors: BatchError[] = [];
  if (b.op === 'stat') {
    statBatch(b, keys, errors);
    return { keys, errors };
  }
  if (b.sha256Bytes) return shaBytesBatch(b, buffer, keys, errors);
  const sha256: string[] | undefined = b.sha256 ? [] : undefined;
  const md5: string[] | undefined = b.md5 ? [] : undefined;
  const etag: string[] | undefined = b.etagPartSize ? [] : undefined;
  const request = { path: '', sha256: Boolean(b.sha256), md5: Boolean(b.md5), ...(b.etagPartSize ? { etagPartSize: b.etagPartSize } : {}), ...(b.etagThreshold ? { etagThreshold: b.etagThreshold } : {}) };
  b.paths.forEach((p, i) => {
    try {
      request.path = b.root ? `${b.root}/${p}` : p;
      const d = hashFileSync(request, buffer, keys, i);
      sha256?.push(d.sha256 ?? '');
      md5?.push(d.md5 ?? '');
      etag?.push(d.etag ?? '');
    } catch (error) {
      keys[i * 4] = Number.NaN;
      errors.push(failure(i, error));
      sha256?.push('');
      md5?.push('');
      etag?.push('');
    }
  });
  return { keys, errors, ...(sha256 ? { sha256 } : {}), ...(md5 ? { md5 } : {}), ...(etag ? { etag } : {}) };
}

function shaBytesBatch(b: Batch, buffer: Buffer, keys: Float64Array, errors: BatchError[]): BatchResult {
  const shaBytes = new Uint8Array(b.paths.length * 32);
  b.paths.forEach((p, i) => {
    try {
      sha256IntoSync(b.root ? `${b.root}/${p}` : p, buffer, keys, i, shaBytes);
    } catch (error) {
      keys[i * 4] = Number.NaN;
      errors.push(failure(i, error));
    }
  });
  return { keys, errors, shaBytes };
}
