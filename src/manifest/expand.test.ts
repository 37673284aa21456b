import { describe, expect, it } from 'vitest';
import { expandEnv, expandString } from './expand.js';

describe('expandString', () => {
  const env = { HC_URL: 'http://127.0.0.1:9/ping', EMPTY: '' };
  const missing: string[] = [];
  const x = (s: string): string => expandString(s, env, (n) => missing.push(n));
  it('expands set variables and defaults', () => {
    expect(x('${HC_URL}/start')).toBe('http://127.0.0.1:9/ping/start');
    expect(x('${NOPE:-fallback}')).toBe('fallback');
    expect(x('${EMPTY:-fallback}')).toBe('fallback');
    expect(x('${EMPTY-fallback}')).toBe('');
    expect(x('cost $$5')).toBe('cost $5');
    expect(missing).toEqual([]);
  });
  it('reports unset variables with no default', () => {
    expect(x('${S3_ENDPOINT}')).toBe('${S3_ENDPOINT}');
    expect(missing).toEqual(['S3_ENDPOINT']);
  });
});

describe('expandEnv', () => {
  it('walks nested values and keeps the path of each missing variable', () => {
    const r = expandEnv({ remotes: { s3: { endpoint: '${EP}' } }, data: [{ local: '${HOME_DIR:-/x}' }], n: 3 }, {});
    expect(r.value).toEqual({ remotes: { s3: { endpoint: '${EP}' } }, data: [{ local: '/x' }], n: 3 });
    expect(r.missing).toEqual([{ path: ['remotes', 's3', 'endpoint'], name: 'EP' }]);
  });
});
