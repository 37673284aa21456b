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
    // The region of the profile aws-cli reads (what `aws configure` writes) is the one signed for.
    expect(directTarget({ ...remote, region: undefined }, KEYS, '[default]\nregion = eu-west-1\n')).toMatchObject({ region: 'eu-west-1' });
    expect(directTarget({ ...remote, region: undefined }, { ...KEYS, AWS_PROFILE: 'dev' }, '[default]\nregion = eu-west-1\n[profile dev] # mine\nregion = us-east-2\n')).toMatchObject({ region: 'us-east-2' });
    expect(reason(directTarget({ ...remote, endpoint: 'https://s3.lab' }, { ...KEYS, AWS_CA_BUNDLE: '/ca.pem' }, ''))).toBe('AWS_CA_BUNDLE');
    expect(reason(directTarget(remote, { ...KEYS, http_proxy: 'http://proxy:3128' }, ''))).toBe('a proxy');
    expect(reason(directTarget({ ...remote, endpoint: 'ftp://x' }, KEYS, ''))).toMatch(/not http/);
    expect(reason(directTarget({ ...remote, endpoint: 'not a url' }, KEYS, ''))).toMatch(/not a URL/);
  });
  it('signs for the region aws-cli (botocore) would, addresses only what it can name as aws-cli does (review 22)', () => {
    const onAws = { type: 's3' as const, bucket: 'data', prefix: '' };
    // botocore reads AWS_DEFAULT_REGION only: another AWS_REGION (for other SDKs) leaves the listing to aws-cli; an empty one is none.
    expect(reason(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, ''))).toMatch(/AWS_REGION/);
    // Only AWS_REGION (aws-cli v2 reads it): taken, as before.
    expect(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1' }, '')).toMatchObject({ region: 'eu-west-1' });
    // ...unless the config file names a region too: aws-cli v1 takes the file's, v2 the variable.
    expect(reason(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1' }, '[default]\nregion = us-east-2\n'))).toMatch(/AWS_REGION and another region in the aws config file/);
    // The same region there, or a region only in another profile: nothing differs.
    expect(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1' }, '[default]\nregion = eu-west-1\n')).toMatchObject({ region: 'eu-west-1' });
    expect(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1' }, '[profile other]\nregion = us-east-2\n')).toMatchObject({ region: 'eu-west-1' });
    expect(reason(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1', AWS_PROFILE: 'other' }, '[profile other]\nregion = us-east-2\n'))).toMatch(/another region/);
    // botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE: that profile's region is the one aws-cli signs for.
    expect(directTarget({ ...remote, region: undefined }, { ...KEYS, AWS_DEFAULT_PROFILE: 'a', AWS_PROFILE: 'b' }, '[profile a]\nregion = eu-central-1\n[profile b]\nregion = us-east-2\n')).toMatchObject({ region: 'eu-central-1' });
    expect(directTarget(onAws, { ...KEYS, AWS_DEFAULT_REGION: 'us-gov-west-1' }, '')).toMatchObject({ region: 'us-gov-west-1' });
    // With an endpoint the region is only signed: a store's own names are fine.
    expect(directTarget(remote, { ...KEYS }, '')).toMatchObject({ region: 'us-east-1' });
    expect(directTarget({ ...remote, region: 'my_zonegroup' }, KEYS, '')).toMatchObject({ region: 'my_zonegroup' });
    expect(directTarget(onAws, { ...KEYS, AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-west-1' }, '')).toMatchObject({ region: 'eu-west-1' });
    expect(directTarget(onAws, { ...KEYS, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1' }, '')).toMatchObject({ region: 'eu-west-1' });
    // Regions whose hosts end elsewhere than amazonaws.com, and anything that is no region name.
    expect(reason(directTarget(onAws, { ...KEYS, AWS_DEFAULT_REGION: 'cn-north-1' }, ''))).toMatch(/outside the AWS partition/);
    expect(reason(directTarget(onAws, { ...KEYS, AWS_DEFAULT_REGION: 'x.example.net#' }, ''))).toMatch(/outside the AWS partition/);
    expect(reason(directTarget(remote, { ...KEYS, AWS_DEFAULT_REGION: 'x y' }, ''))).toBeUndefined();
    expect(reason(directTarget({ ...remote, region: 'us east/1' }, KEYS, ''))).toMatch(/no region name/);
    expect(reason(directTarget(onAws, { ...KEYS, AWS_DEFAULT_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true' }, ''))).toMatch(/FIPS/);
    expect(reason(directTarget(onAws, { ...KEYS, AWS_DEFAULT_REGION: 'us-east-1' }, '[default]\nuse_dualstack_endpoint = true\n'))).toMatch(/dual-stack/);
    // An access point ARN is aws-cli's; a bucket no host name can carry goes path style.
    expect(reason(directTarget({ ...onAws, bucket: 'arn:aws:s3:us-west-2:123456789012:accesspoint/myap' }, { ...KEYS, AWS_DEFAULT_REGION: 'us-west-2' }, ''))).toMatch(/ARN/);
    const legacy = directTarget({ ...onAws, bucket: 'My_Legacy_Bucket' }, { ...KEYS, AWS_DEFAULT_REGION: 'us-east-1' }, '');
    expect(legacy).toMatchObject({ pathStyle: true });
    expect('base' in legacy && legacy.base.href).toBe('https://s3.us-east-1.amazonaws.com/');
  });
});
