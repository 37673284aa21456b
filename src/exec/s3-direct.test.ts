import { describe, expect, it } from 'vitest';
import { directTarget } from './s3-direct.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
const remote = { type: 's3' as const, bucket: 'b', prefix: 'lab', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' };
const reason = (t: ReturnType<typeof directTarget>): string | undefined => ('reason' in t ? t.reason : undefined);

describe('when labsync lists S3 itself, and when it leaves it to aws-cli', () => {
  it('lists itself with keys in the environment: path style for an endpoint, virtual-hosted on AWS', () => {
    const t = directTarget(remote, { ...KEYS, AWS_SESSION_TOKEN: 't' }, '');
    expect(t).toMatchObject({ pathStyle: true, region: 'us-east-1', creds: { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' } });
    const aws = directTarget({ type: 's3', bucket: 'data', prefix: '' }, { ...KEYS, AWS_DEFAULT_REGION: 'eu-west-1' }, '');
    expect(aws).toMatchObject({ pathStyle: false, region: 'eu-west-1' });
    expect('base' in aws && aws.base.href).toBe('https://data.s3.eu-west-1.amazonaws.com/');
    expect(directTarget({ type: 's3', bucket: 'my.data', prefix: '', region: 'us-east-2' }, KEYS, '')).toMatchObject({ pathStyle: true });
    // A proxy that the endpoint bypasses does not matter.
    expect(reason(directTarget(remote, { ...KEYS, HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'localhost,127.0.0.1' }, ''))).toBeUndefined();
  });
  it('leaves to aws-cli whatever it cannot be sure of', () => {
    expect(reason(directTarget({ ...remote, profile: 'lab' }, KEYS, ''))).toMatch(/profile/);
    expect(reason(directTarget({ ...remote, instanceCredentials: true }, KEYS, ''))).toMatch(/instance/);
    expect(reason(directTarget(remote, {}, ''))).toMatch(/no keys/);
    expect(reason(directTarget({ ...remote, endpoint: undefined }, { ...KEYS, AWS_ENDPOINT_URL: 'http://x' }, ''))).toMatch(/endpoint/);
    expect(reason(directTarget({ ...remote, endpoint: undefined }, KEYS, '[default]\nendpoint_url = http://x\n'))).toMatch(/endpoint/);
    expect(reason(directTarget(remote, KEYS, '[default]\ns3 =\n  addressing_style = virtual\n'))).toMatch(/S3 settings/);
    expect(reason(directTarget({ ...remote, endpoint: undefined, region: undefined }, KEYS, ''))).toMatch(/no region/);
    expect(reason(directTarget({ ...remote, region: undefined }, KEYS, '[default]\nregion = eu-west-1\n'))).toMatch(/region from the aws config/);
    expect(reason(directTarget({ ...remote, endpoint: 'https://s3.lab' }, { ...KEYS, AWS_CA_BUNDLE: '/ca.pem' }, ''))).toBe('AWS_CA_BUNDLE');
    expect(reason(directTarget(remote, { ...KEYS, http_proxy: 'http://proxy:3128' }, ''))).toBe('a proxy');
    expect(reason(directTarget({ ...remote, endpoint: 'ftp://x' }, KEYS, ''))).toMatch(/not http/);
    expect(reason(directTarget({ ...remote, endpoint: 'not a url' }, KEYS, ''))).toMatch(/not a URL/);
  });
});
