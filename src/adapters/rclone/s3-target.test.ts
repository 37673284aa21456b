import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../types.js';
import { backendType, configSection, rcloneS3Target } from './s3-target.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' };
const none = (): string => '';
const files = (map: Record<string, string>) => (path: string): string => map[path] ?? '';
const reason = (t: ReturnType<typeof rcloneS3Target>): string | undefined => ('reason' in t ? t.reason : undefined);

describe('rcloneS3Target', () => {
  const s3 = { type: 's3' as const, bucket: 'b', prefix: 'lab/raw', endpoint: 'http://127.0.0.1:9000' };

  it('a manifest s3 remote: the environment keys rclone env_auth takes, signed for us-east-1 unless the remote names a region', () => {
    const t = rcloneS3Target(s3, { ...KEYS, AWS_REGION: 'eu-west-1' }, '/dev/null', none);
    expect(t).toMatchObject({ bucket: 'b', prefix: 'lab/raw', region: 'us-east-1', pathStyle: true, creds: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    expect(reason(rcloneS3Target(s3, {}, '/dev/null', none))).toBe('no keys in the environment');
    expect(reason(rcloneS3Target({ ...s3, profile: 'p' }, KEYS, '/dev/null', none))).toBe('a profile names the credentials');
  });

  it('an rclone remote: config file, then RCLONE_CONFIG_<NAME>_*, then the manifest, as rclone reads them', () => {
    const remote = { type: 'rclone' as const, remote: 'mys3', path: 'bkt/a/b', config: { region: 'us-west-2' } };
    const conf = '[other]\ntype = drive\n\n[mys3]\ntype = s3\nprovider = Other\naccess_key_id = FILEKEY\nsecret_access_key = FILESECRET\nendpoint = http://127.0.0.1:1\n';
    const env = { RCLONE_CONFIG_MYS3_ENDPOINT: 'http://127.0.0.1:9000' };
    const t = rcloneS3Target(remote, env, '/c/rclone.conf', files({ '/c/rclone.conf': conf }));
    expect(t).toMatchObject({ bucket: 'bkt', prefix: 'a/b', region: 'us-west-2', creds: { accessKeyId: 'FILEKEY', secretAccessKey: 'FILESECRET' } });
    expect('reason' in t ? '' : t.base.href).toBe('http://127.0.0.1:9000/');
  });

  it('falls back on anything rclone would do differently or labsync cannot read', () => {
    const remote = (config: Record<string, string>, path = 'bkt/p') => ({ type: 'rclone' as const, remote: 'r', path, config: { type: 's3', endpoint: 'http://127.0.0.1:9000', ...config } });
    expect(reason(rcloneS3Target(remote({ sse_kms_key_id: 'k', access_key_id: 'a', secret_access_key: 's' }), {}, '/dev/null', none))).toBe('settings labsync does not read (sse_kms_key_id)');
    expect(reason(rcloneS3Target(remote({}), {}, '/dev/null', none))).toBe('no keys (anonymous access)');
    expect(reason(rcloneS3Target(remote({ access_key_id: 'a' }), KEYS, '/dev/null', none))).toBe('only one of access_key_id and secret_access_key');
    expect(reason(rcloneS3Target(remote({ env_auth: 'true' }), {}, '/dev/null', none))).toBe('no keys in the environment');
    expect(reason(rcloneS3Target(remote({ access_key_id: 'a', secret_access_key: 's' }, ''), {}, '/dev/null', none))).toBe('no bucket in the path');
    expect(reason(rcloneS3Target({ type: 'rclone', remote: 'g', path: 'x', config: { type: 'drive' } }, {}, '/dev/null', none))).toBe('not an S3 backend');
    expect(reason(rcloneS3Target(s3, { ...KEYS, RCLONE_S3_ENDPOINT: 'http://x' }, '/dev/null', none))).toBe('RCLONE_S3_* settings in the environment');
    expect(reason(rcloneS3Target(s3, KEYS, '/c', files({ '/c': 'RCLONE_ENCRYPT_V0:\nabc' })))).toBe('an encrypted rclone config');
    expect(reason(rcloneS3Target(s3, { ...KEYS, RCLONE_CONFIG_LABSYNCS3_SSE_KMS_KEY_ID: 'k' }, '/dev/null', none))).toBe('a remote named labsyncs3 outside the manifest');
    expect(reason(rcloneS3Target(s3, { ...KEYS, HTTPS_PROXY: 'http://proxy:3128' }, '/dev/null', none))).toBe('a proxy');
  });

  it('reads one INI section, keys lowercased, comments skipped', () => {
    expect(configSection('# c\n[a]\nKey = v = w\n; x\n[b]\nk = 2\n', 'a')).toEqual({ key: 'v = w' });
    expect(configSection('[a]\n', 'b')).toBeUndefined();
  });
});

describe('backendType', () => {
  const named = { type: 'rclone', remote: 'mys3', path: 'b/p' } as Endpoint;
  const read = (text: string) => (): string => text;
  it('finds a named remote\'s type where rclone does: the config file, RCLONE_CONFIG_<NAME>_TYPE, the manifest', () => {
    expect(backendType(named, {}, '/c/rclone.conf', read('[other]\ntype = sftp\n[mys3]\ntype = S3\n'))).toBe('s3');
    expect(backendType(named, { RCLONE_CONFIG_MYS3_TYPE: 'gcs' }, '/dev/null', read(''))).toBe('gcs');
    expect(backendType({ ...named, config: { type: 'azureblob' } } as Endpoint, {}, '/c/rclone.conf', read('[mys3]\ntype = s3\n'))).toBe('azureblob');
    expect(backendType(named, {}, '/c/rclone.conf', read(''))).toBe('');
    expect(backendType({ type: 's3', bucket: 'b' } as Endpoint, {}, '/dev/null', read(''))).toBe('s3');
  });
});
