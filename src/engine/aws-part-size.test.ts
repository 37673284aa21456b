import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { awsS3Settings, awsSize, withAwsPartSize } from './aws-part-size.js';

const awsChunkSize = (text: string, profile: string): number | undefined => awsS3Settings(text, profile).chunk;
import { tempDirs } from '../temp-dirs.fixture.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tempDir = tempDirs();

const MiB = 1024 * 1024;

describe('aws-cli\'s part size from its config file', () => {
  it('reads sizes as aws-cli does: bytes, or KB/MB/GB and KiB/MiB/GiB, all powers of 1024', () => {
    expect(awsSize('8388608')).toBe(8 * MiB);
    expect(awsSize('64MB')).toBe(64 * MiB);
    expect(awsSize('64mib')).toBe(64 * MiB);
    expect(awsSize('1GB')).toBe(1024 * MiB);
    expect(awsSize('512KB')).toBe(512 * 1024);
    expect(awsSize('lots')).toBeUndefined();
  });
  it('finds multipart_chunksize in the profile\'s s3 block only, clamped to S3\'s 5 MiB – 5 GiB', () => {
    const text = [
      '# a comment', '[default]', 'region = us-east-1', 's3 =', '  max_concurrent_requests = 20', '  multipart_chunksize = 64MB',
      '[profile lab]', 's3 =', '    multipart_chunksize = 16MiB', 'region = eu-west-1',
      '[profile tiny]', 's3 =', '  multipart_chunksize = 1MB',
      '[profile flat]', 'multipart_chunksize = 32MB',
      '[profile other]', 'region = x',
    ].join('\n');
    expect(awsChunkSize(text, 'default')).toBe(64 * MiB);
    expect(awsChunkSize(text, 'lab')).toBe(16 * MiB);
    expect(awsChunkSize(text, 'tiny')).toBe(5 * MiB);
    // Outside an s3 block it is not aws's s3 setting; a profile without one, or none at all: the default.
    expect(awsChunkSize(text, 'flat')).toBeUndefined();
    expect(awsChunkSize(text, 'other')).toBeUndefined();
    expect(awsChunkSize(text, 'missing')).toBeUndefined();
    expect(awsChunkSize('', 'default')).toBeUndefined();
    expect(awsChunkSize('[profile default]\ns3 =\n  multipart_chunksize = 10MB\n', 'default')).toBe(10 * MiB);
    expect(awsChunkSize('[profile a.b]\ns3 =\n  multipart_chunksize = 10MB\n', 'a.b')).toBe(10 * MiB);
  });
  it('reads multipart_threshold too, and quoted profile names as botocore does', () => {
    const text = '[profile "my lab"]\ns3 =\n  multipart_threshold = 64MB\n  multipart_chunksize = 16MB\n';
    expect(awsS3Settings(text, 'my lab')).toEqual({ chunk: 16 * MiB, threshold: 64 * MiB });
  });
  it('gives an aws pair the part size and threshold aws-cli will use; the manifest\'s part_size wins; the profile as botocore picks it', () => {
    const dir = tempDir('labsync-aws-config-');
    const config = join(dir, 'config');
    writeFileSync(config, '[default]\ns3 =\n  multipart_chunksize = 64MB\n[profile b]\ns3 =\n  multipart_chunksize = 16MB\n  multipart_threshold = 16MB\n');
    const pair = { tool: 'aws', remote: { type: 's3', bucket: 'b', prefix: '' } } as unknown as ResolvedPair;
    const remote = (p: ResolvedPair): unknown => p.remote;
    // A part size alone brings aws's default threshold (8 MiB): a 20 MiB file goes in one part of 64.
    expect(remote(withAwsPartSize(pair, { AWS_CONFIG_FILE: config }))).toMatchObject({ partSize: 64 * MiB, partThreshold: 8 * MiB });
    expect(remote(withAwsPartSize(pair, { AWS_CONFIG_FILE: config, AWS_PROFILE: 'b' }))).toEqual({ type: 's3', bucket: 'b', prefix: '', partSize: 16 * MiB });
    expect(remote(withAwsPartSize(pair, { AWS_CONFIG_FILE: config, AWS_PROFILE: 'b', AWS_DEFAULT_PROFILE: 'default' }))).toMatchObject({ partSize: 64 * MiB });
    const set = { ...pair, remote: { type: 's3', bucket: 'b', prefix: '', partSize: 32 * MiB } } as unknown as ResolvedPair;
    expect(withAwsPartSize(set, { AWS_CONFIG_FILE: config })).toBe(set);
    expect(remote(withAwsPartSize(set, { AWS_CONFIG_FILE: config, AWS_PROFILE: 'b' }))).toMatchObject({ partSize: 32 * MiB, partThreshold: 16 * MiB });
    expect(withAwsPartSize(pair, { AWS_CONFIG_FILE: join(dir, 'none') })).toBe(pair);
    expect(withAwsPartSize({ ...pair, tool: 'rclone' } as ResolvedPair, { AWS_CONFIG_FILE: config })).toMatchObject({ remote: { type: 's3' } });
  });
});
