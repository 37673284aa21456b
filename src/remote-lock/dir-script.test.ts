import { describe, expect, it } from 'vitest';
import { dirScript, lockDir, parseAnswer } from './dir-script.js';
import type { Holder } from './holder.js';

const h: Holder = { host: "it's", user: 'u', pid: 1, version: '1', command: 'data push', startedAt: 's', leaseUntil: 'l', token: 'abc' };

describe('lock folder scripts', () => {
  it('the lock folder sits beside the data under its own name', () => {
    expect(lockDir('/srv/lab/data')).toBe('/srv/lab/data/.labsync-lock');
    expect(lockDir('models/')).toBe('models/.labsync-lock');
  });
  it('quotes the path and the holder for the host shell', () => {
    const s = dirScript("/srv/a b/it's", { kind: 'acquire', holder: h });
    expect(s).toContain(`D='/srv/a b/it'\\''s'`);
    expect(s).toContain(`"host":"it'\\''s"`);
    expect(s).toMatch(/if mkdir -- "\$D"/);
  });
  it('renew and release touch the folder only while the token is ours; release without a token removes whatever is there', () => {
    expect(dirScript('/x', { kind: 'renew', holder: h, token: 'abc' })).toContain(`*'"token":"abc"'*)`);
    expect(dirScript('/x', { kind: 'release', token: 'abc' })).toContain(`*'"token":"abc"'*)`);
    expect(dirScript('/x', { kind: 'release', token: undefined })).not.toContain('token');
  });
  it('a release undoes only the folders the lock itself made (kept in the lock folder), emptiest first', () => {
    expect(dirScript('/x/y', { kind: 'acquire', holder: h })).toContain(`printf '%s' "$M" > "$D/made"`);
    expect(dirScript('/x/y', { kind: 'release', token: 'abc' })).toMatch(/M=\$\(cat -- "\$D\/made".*rm -rf -- "\$D" && \{ if \[ -n "\$M" \]; then .*rmdir -- "\$Q"/);
  });
  it('parses the answer line and what follows it', () => {
    expect(parseAnswer("labsync-lock found\n{\"a\":1}")).toEqual({ answer: 'found', rest: '{"a":1}' });
    expect(parseAnswer('motd banner\nlabsync-lock ok\n')).toEqual({ answer: 'ok', rest: '' });
    expect(parseAnswer('sh: mkdir: Permission denied')).toBeUndefined();
  });
  it('a read says the holder\'s age by the host\'s clock before its answer, where the host can tell', () => {
    expect(parseAnswer('labsync-lock-age 12\nlabsync-lock found\n{"token":"t"}')).toEqual({ answer: 'found', rest: '{"token":"t"}', ageS: 12 });
    expect(parseAnswer('labsync-lock found\n{"token":"t"}')).toEqual({ answer: 'found', rest: '{"token":"t"}' });
  });
});
