// aws-cli cuts a file of multipart_threshold bytes or more into multipart_chunksize parts, both read
// from the profile's `s3 =` settings in its config file. A multipart ETag recomputed with another part
// size never matches, so every such file was planned as changed and sent again on every run. A pair
// whose manifest does not say `part_size` takes the part size aws-cli will use.
import type { ResolvedPair } from '../types.js';
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

/** multipart_chunksize in the `s3 =` block of `profile`'s section of an aws config file; undefined: not set (or not a size). */
export function awsChunkSize(configText: string, profile: string): number | undefined {
  const section = profile === 'default' ? /^\s*\[\s*(?:profile\s+)?default\s*\]\s*$/ : new RegExp(`^\\s*\\[\\s*profile\\s+${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]\\s*$`);
  let inSection = false;
  let inS3 = false;
  for (const line of configText.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(line) || !line.trim()) continue;
    if (/^\s*\[/.test(line)) {
      inSection = section.test(line);
      inS3 = false;
      continue;
    }
    if (!inSection) continue;
    const indented = /^\s/.test(line);
    const kv = /^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!indented) inS3 = Boolean(kv && kv[1] === 's3' && !kv[2]);
    else if (inS3 && kv?.[1] === 'multipart_chunksize') {
      const size = awsSize(kv[2] as string);
      return size === undefined ? undefined : Math.min(MAX_PART, Math.max(MIN_PART, size));
    }
  }
  return undefined;
}

/** The pair as aws-cli will upload it: its part size from aws's config where the manifest gives none. */
export function withAwsPartSize(pair: ResolvedPair, env: NodeJS.ProcessEnv): ResolvedPair {
  if (pair.tool !== 'aws' || pair.remote.type !== 's3' || pair.remote.partSize !== undefined) return pair;
  const profile = pair.remote.profile ?? env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE ?? 'default';
  const partSize = awsChunkSize(awsConfigText(env), profile);
  return partSize === undefined ? pair : { ...pair, remote: { ...pair.remote, partSize } };
}
