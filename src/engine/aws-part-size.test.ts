import { describe, expect, it } from 'vitest';
import { awsChunkSize, awsSize } from './aws-part-size.js';

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
});
