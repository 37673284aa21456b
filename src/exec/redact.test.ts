import { describe, expect, it } from 'vitest';
import { isSecretName, makeRedactor, redactDeep } from './redact.js';

describe('makeRedactor', () => {
  const redact = makeRedactor(
    { AWS_SECRET_ACCESS_KEY: 'wJalr/XUtnFEMI+K7MDENG', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', HOME: '/root' },
    { RCLONE_CONFIG_GD_TOKEN: 'tok-1234', SHORT_TOKEN: 'ab' },
  );
  it('hides secret env values and their URL-encoded forms', () => {
    expect(redact('key=wJalr/XUtnFEMI+K7MDENG')).toBe('key=***');
    expect(redact('k=wJalr%2FXUtnFEMI%2BK7MDENG')).toBe('k=***');
    expect(redact('token tok-1234 used')).toBe('token *** used');
  });
  it('keeps flags in secret-looking names (TOKENIZERS_PARALLELISM=false), which would mask ordinary words', () => {
    const r = makeRedactor({ TOKENIZERS_PARALLELISM: 'false', HF_TOKEN_ENABLED: 'true', MY_SECRET: 'Off' });
    expect(r('delete: false, verify: true, off')).toBe('delete: false, verify: true, off');
  });

  it('keeps identifiers and too-short values', () => {
    expect(redact('id AKIDEXAMPLE at /root, ab')).toBe('id AKIDEXAMPLE at /root, ab');
  });
  it('hides passwords in URLs but keeps the user', () => {
    expect(redact('git push https://alice:hunter22@example.com/repo.git')).toBe('git push https://alice:***@example.com/repo.git');
    expect(redact('ssh://bob@host:22/path')).toBe('ssh://bob@host:22/path');
    expect(redact('tracking at http://:s3cr3t-pw@127.0.0.1:5000 failed')).toBe('tracking at http://:***@127.0.0.1:5000 failed');
    expect(redact('https://host:443/a@b')).toBe('https://host:443/a@b');
    // A raw @ in the password: URL parsers read up to the authority's last @, and so must the mask.
    expect(redact('MLFLOW_TRACKING_URI=http://alice:p@ss@host:5000 x http://b:q@h/y@z')).toBe('MLFLOW_TRACKING_URI=http://alice:***@host:5000 x http://b:***@h/y@z');
  });
  it('hides a token given as an https URL\'s user name (review 41: GitHub\'s https://TOKEN@github.com form), not a plain user', () => {
    expect(redact('git fetch https://ghp_abcdefSECRET123@github.com/org/repo.git')).toBe('git fetch https://***@github.com/org/repo.git');
    expect(redact('https://0123456789abcdef0123456789abcdef@gitlab.example/x.git')).toBe('https://***@gitlab.example/x.git');
    expect(redact('https://alice@bitbucket.org/team/repo.git')).toBe('https://alice@bitbucket.org/team/repo.git');
    // An @ in a query is no user name (review 44: the host was hidden).
    expect(redact('https://hc-ping.example.org?email=ops@example.org')).toBe('https://hc-ping.example.org?email=ops@example.org');
  });
  it('redacts nested values', () => {
    expect(redactDeep({ a: ['tok-1234'], b: { c: 'x tok-1234' }, n: 3 }, redact)).toEqual({ a: ['***'], b: { c: 'x ***' }, n: 3 });
  });
});

describe('isSecretName', () => {
  it('recognises the names SPEC §4 lists', () => {
    for (const n of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'RCLONE_CONFIG_S3_PASS', 'RCLONE_CONFIG_X_SECRET_ACCESS_KEY', 'RCLONE_CONFIG_GD_TOKEN', 'RCLONE_CONFIG_C_PASSWORD']) {
      expect(isSecretName(n), n).toBe(true);
    }
    for (const n of ['AWS_ACCESS_KEY_ID', 'HOME', 'PATH', 'RCLONE_CONFIG_S3_TYPE']) expect(isSecretName(n), n).toBe(false);
  });
});
