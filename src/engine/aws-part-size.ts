// aws-cli cuts a file of multipart_threshold bytes or more into multipart_chunksize parts, both read
// from the profile's `s3 =` settings in its config file. A multipart ETag recomputed with another part
// size never matches, so every such file was planned as changed and sent again on every run. A pair
// whose manifest does not say `part_size` takes the part size aws-cli will use.
import type { ResolvedPair } from '../types.js';
import { AWS_PART_SIZE } from '../verify/etag.js';
import { awsConfigText } from './listings.js';

/** s3transfer's bounds on a part (ChunksizeAdjuster): at least 5 MiB, at most 5 GiB. */
const MIN_PART = 5 * 1024 ** 2;
const MAX_PART = 5 * 1024 ** 3;

/** aws-cli's sizes: bytes, or a number with KB/MB/GB/TB or KiB/MiB/GiB/TiB, all powers of 1024. */
export function awsSize(text: string): number | undefined {
  const m = /^(\d+)\s*(?:([kmgt])i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const power = m[2] ? 'kmgt'.indexOf((m[2] as string).toLowerCase()) + 1 : 0;
  return Number(m[1]) * 1024 ** power;
}

/** aws-cli's transfer settings that decide an ETag: the `s3 =` block of `profile`'s section of its config file. */
export interface AwsS3Settings { readonly chunk?: number; readonly threshold?: number }

/** multipart_chunksize and multipart_threshold of `profile` (clamped as s3transfer clamps a part); absent: not set, or not a size. */
export function awsS3Settings(configText: string, profile: string): AwsS3Settings {
  let inSection = false;
  let inS3 = false;
  const out: { chunk?: number; threshold?: number } = {};
  for (const line of configText.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(line) || !line.trim()) continue;
    const head = /^\s*\[\s*(.*?)\s*\]\s*$/.exec(line);
    if (head) {
      inSection = sectionProfile(head[1] as string) === profile;
      inS3 = false;
      continue;
    }
    if (!inSection) continue;
    const kv = /^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!/^\s/.test(line)) inS3 = Boolean(kv && kv[1] === 's3' && !kv[2]);
    else if (inS3 && kv) {
      const size = awsSize(kv[2] as string);
      if (size === undefined) continue;
      if (kv[1] === 'multipart_chunksize') out.chunk = Math.min(MAX_PART, Math.max(MIN_PART, size));
      if (kv[1] === 'multipart_threshold') out.threshold = size;
    }
  }
  return out;
}

/** The profile a config section is for: `[default]`, `[profile name]`, `[profile "a name"]` (botocore reads it with shlex). */
function sectionProfile(head: string): string | undefined {
  if (head === 'default') return 'default';
  const m = /^profile\s+(.+)$/.exec(head);
  if (!m) return undefined;
  const name = (m[1] as string).trim();
  return /^(["']).*\1$/.test(name) ? name.slice(1, -1) : name;
}

/**
 * The pair as aws-cli will upload it: its part size from aws's config where the manifest gives none,
 * and aws's multipart_threshold where it is not that part size (a file below it goes whole: its ETag is
 * its MD5; at or above it, in parts, even one). The profile as botocore picks it: the remote's, else
 * AWS_DEFAULT_PROFILE, else AWS_PROFILE.
 */
export function withAwsPartSize(pair: ResolvedPair, env: NodeJS.ProcessEnv): ResolvedPair {
  if (pair.tool !== 'aws' || pair.remote.type !== 's3') return pair;
  const profile = pair.remote.profile ?? env.AWS_DEFAULT_PROFILE ?? env.AWS_PROFILE ?? 'default';
  const set = awsS3Settings(awsConfigText(env), profile);
  const partSize = pair.remote.partSize ?? set.chunk;
  // The manifest's part_size alone keeps its old meaning (threshold = part size); aws's own settings bring its default threshold.
  const threshold = set.threshold ?? (pair.remote.partSize === undefined && set.chunk !== undefined ? AWS_PART_SIZE : undefined);
  const partThreshold = threshold === undefined || threshold === (partSize ?? AWS_PART_SIZE) ? undefined : threshold;
  if (partSize === pair.remote.partSize && partThreshold === undefined) return pair;
  return { ...pair, remote: { ...pair.remote, ...(partSize === undefined ? {} : { partSize }), ...(partThreshold === undefined ? {} : { partThreshold }) } };
}
