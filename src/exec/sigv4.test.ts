import { describe, expect, it } from 'vitest';
import { canonicalQuery, signGet, signRequest, uriEncode } from './sigv4.js';

describe('SigV4 for a GET', () => {
  it('signs the S3 documentation\'s GET Bucket example to its published signature', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html ("GET Bucket (List Objects)")
    const url = new URL(`https://examplebucket.s3.amazonaws.com/?${canonicalQuery({ prefix: 'J', 'max-keys': '2' })}`);
    const h = signGet(url, 'us-east-1', { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      new Date('2013-05-24T00:00:00Z'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(h.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
    expect(h['x-amz-date']).toBe('20130524T000000Z');
  });
  it('signs a session token and encodes query values the way S3 computes them', () => {
    const h = signGet(new URL('http://127.0.0.1:9/b?list-type=2'), 'us-east-1', { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' }, new Date(0));
    expect(h.authorization).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,');
    expect(h['x-amz-security-token']).toBe('t');
    expect(uriEncode("a/b c*!'()~")).toBe('a%2Fb%20c%2A%21%27%28%29~');
    expect(canonicalQuery({ prefix: 'lab/x y/', 'list-type': '2', 'continuation-token': 'a+b=' })).toBe('continuation-token=a%2Bb%3D&list-type=2&prefix=lab%2Fx%20y%2F');
  });
  it('signs the headers it is given (S3 wants Content-MD5 and every x-amz-* header signed) and returns them', () => {
    const h = signRequest('PUT', new URL('http://127.0.0.1:9/b/k'), 'us-east-1', { accessKeyId: 'k', secretAccessKey: 's' }, new Date(0), 'abc', { 'content-md5': 'bQ==', 'x-amz-checksum-sha256': 'c2hh' });
    expect(h.authorization).toContain('SignedHeaders=content-md5;host;x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date,');
    expect(h).toMatchObject({ 'content-md5': 'bQ==', 'x-amz-checksum-sha256': 'c2hh', 'x-amz-content-sha256': 'abc' });
    expect(h).not.toHaveProperty('host');
  });
});
