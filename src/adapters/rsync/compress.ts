// Pure: what compression rsync is asked for on an ssh pair, and which files are sent without it.
// rsync ≥ 3.2.4 compiled out per-file compression levels, so --skip-compress no longer changes anything
// (https://github.com/RsyncProject/rsync/issues/640): labsync sends the files in formats that do not
// compress in a second rsync call without --compress instead.
import type { Endpoint, ResolvedPair } from '../../types.js';
import type { Command, Probe } from '../types.js';
import { sshCommand, sshTarget } from './ssh.js';

/** rsync's own default list (default-dont-compress.h, 3.2.x), all already compressed. */
const RSYNC_DEFAULT = '3g2 3gp 7z aac ace apk avi bz2 deb dmg ear f4v flac flv gpg gz iso jar jpeg jpg lrz lz lz4 lzma lzo m1a m1v m2a m2ts m2v m4a m4b m4p m4r m4v mka mkv mov mp1 mp2 mp3 mp4 mpa mpeg mpg mpv mts odb odf odg odi odm odp ods odt oga ogg ogm ogv ogx opus otg oth otp ots ott oxt png qt rar rpm rz rzip spx squashfs sxc sxd sxg sxm sxw sz tbz tbz2 tgz tlz ts txz tzo vob war webm webp xz z zip zst';
/**
 * Model weights (float tensors: a few percent at most, not worth the CPU), containers that are zips or
 * compress internally (npz, parquet, orc, avro, whl), and more media. Not here, because they often
 * compress well: .npy and .arrow (raw arrays, Hugging Face's uncompressed datasets cache), .csv, .json,
 * .pkl, .h5 (may hold anything).
 */
const ML_FORMATS = 'safetensors pt pth bin ckpt gguf ggml onnx tflite pb npz parquet orc avro whl heic heif avif jxl br';

export const SKIP_COMPRESS: readonly string[] = [...new Set(`${RSYNC_DEFAULT} ${ML_FORMATS}`.split(' '))].sort();
const SKIP = new Set(SKIP_COMPRESS);

/** rsync's own rule: the text after the last dot of the name, any case. */
export function incompressible(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 && SKIP.has(name.slice(dot + 1).toLowerCase());
}

/** The flags for a transfer that compresses. `skipList`: also name the list (older rsyncs still honour it). */
export function compressArgs(pair: ResolvedPair, skipList: boolean): string[] {
  if (!pair.compress) return [];
  const args = ['--compress'];
  // Only set after both ends said they offer it (compressProbe): an older end would reject the option.
  if (pair.compressChoice) args.push(`--compress-choice=${pair.compressChoice}`);
  if (skipList && pair.compressChoice) args.push(`--skip-compress=${SKIP_COMPRESS.join('/')}`);
  return args;
}

/** The algorithms an `rsync --version` lists under "Compress list:" (rsync ≥ 3.2); none for older ones. */
export function compressList(versionText: string): string[] {
  const m = /Compress list:\s*\n\s*([^\n]+)/.exec(versionText);
  return m ? (m[1] as string).trim().split(/\s+/) : [];
}

/** Both ends' `rsync --version`, read once per run: zstd when both list it, else rsync's own negotiation. */
export function compressProbe(pair: ResolvedPair): Probe<string | undefined> {
  const remote = pair.remote as Extract<Endpoint, { type: 'ssh' }>;
  const [, ...options] = sshCommand(remote, pair.stallTimeoutMs);
  const commands: Command[] = [
    { tool: 'rsync', args: ['--version'], cwd: pair.root, mutates: false, label: 'rsync version here' },
    { tool: 'ssh', args: [...options, '--', sshTarget(remote), 'rsync --version'], cwd: pair.root, mutates: false, label: `rsync version on ${sshTarget(remote)}`, pair: pair.name },
  ];
  return {
    commands,
    parse: ([here, there]) => (compressList(here?.stdout ?? '').includes('zstd') && compressList(there?.stdout ?? '').includes('zstd') ? 'zstd' : undefined),
  };
}
