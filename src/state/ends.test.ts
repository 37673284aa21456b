import { describe, expect, it } from 'vitest';
import { makeRedactor } from '../exec/redact.js';
import type { ResolvedPair } from '../types.js';
import { endsKey, sameEnds } from './ends.js';

const at = (remote: object, root = '/lab'): ResolvedPair => ({ root, local: `${root}/data`, remote } as unknown as ResolvedPair);
const redact = makeRedactor({});

describe('a pair\'s ends (where its two sides are)', () => {
  it('leave out how the remote is reached: a kept ssh connection, options, an inline config\'s changing credentials', () => {
    const ssh = { type: 'ssh', host: 'gpu', user: 'u', path: '/d', sshOptions: [] };
    expect(endsKey(at({ ...ssh, keptIn: '/run/x', keptKey: 'abc', sshOptions: ['Ciphers=aes128-gcm@openssh.com'] }), redact)).toBe(endsKey(at(ssh), redact));
    expect(endsKey(at({ ...ssh, path: '/e' }), redact)).not.toBe(endsKey(at(ssh), redact));
    const rclone = (id: string) => ({ type: 'rclone', remote: 'x', path: 'b/p', config: { type: 's3', endpoint: 'http://s3', access_key_id: id, session_token: `t${id}` } });
    expect(endsKey(at(rclone('AKIA1')), redact)).toBe(endsKey(at(rclone('AKIA2')), redact));
    expect(endsKey(at({ ...rclone('AKIA1'), config: { type: 's3', endpoint: 'http://other' } }), redact)).not.toBe(endsKey(at(rclone('AKIA1')), redact));
  });
  it('write the manifest\'s folder as <root> only at a path boundary: a project moved is the same pair; a sibling folder is not its root', () => {
    const local = (root: string, path: string) => at({ type: 'local', path }, root);
    expect(endsKey(local('/a/proj', '/a/proj/nas'), redact)).toBe(endsKey(local('/b/proj', '/b/proj/nas'), redact));
    expect(endsKey(local('/a/proj', '/a/proj-archive'), redact)).not.toBe(endsKey(local('/b/proj', '/b/proj-archive'), redact));
  });
  it('<root> at a Windows separator too; an ssh host\'s folder named like the project\'s is another place, not <root>', () => {
    const win = (root: string): ResolvedPair => ({ root, local: `${root}\\data`, remote: { type: 'local', path: `${root}\\nas` } } as unknown as ResolvedPair);
    expect(endsKey(win('C:\\ci\\job1'), redact)).toBe(endsKey(win('C:\\ci\\job2'), redact));
    const ssh = (root: string) => at({ type: 'ssh', host: 'login', path: `${root}/data` }, root);
    expect(endsKey(ssh('/scratch/u/proj'), redact)).not.toBe(endsKey(ssh('/scratch/u/moved'), redact));
  });
  it('a git remote or an MLflow store on this machine, under the project, is <root> too: a project moved is the same pair', () => {
    const git = (root: string) => at({ type: 'git', url: `${root}/origin.git` }, root);
    expect(endsKey(git('/a/proj'), redact)).toBe(endsKey(git('/b/proj'), redact));
    const ml = (root: string) => at({ type: 'mlflow', trackingUri: `file://${root}/mlruns`, model: 'm', experiment: 'e' }, root);
    expect(endsKey(ml('/a/proj'), redact)).toBe(endsKey(ml('/b/proj'), redact));
  });
  it('an rclone inline config\'s credentials (a SAS URL, a connection string) are left out; where it is (an account name, an auth URL) counts', () => {
    const az = (config: object) => at({ type: 'rclone', remote: 'az', path: 'c/p', config: { type: 'azureblob', ...config } });
    expect(endsKey(az({ account: 'lab', sas_url: 'https://lab.blob/?sig=1' }), redact)).toBe(endsKey(az({ account: 'lab', sas_url: 'https://lab.blob/?sig=2' }), redact));
    expect(endsKey(az({ account: 'lab' }), redact)).not.toBe(endsKey(az({ account: 'other' }), redact));
    expect(endsKey(az({ auth: 'https://a/v3' }), redact)).not.toBe(endsKey(az({ auth: 'https://b/v3' }), redact));
  });
  it('a record kept in an earlier form (an object, or an unversioned digest) counts as these ends', () => {
    const key = endsKey(at({ type: 'local', path: '/x' }), redact);
    expect(sameEnds({ ends: { local: '/l', remote: 'r' } }, key)).toBe(true);
    expect(sameEnds({ ends: '0123456789abcdef0123456789abcdef' }, key)).toBe(true);
    expect(sameEnds({ ends: key }, key)).toBe(true);
    expect(sameEnds({ ends: 'v2:0123456789abcdef0123456789abcdef' }, key)).toBe(true);
    expect(sameEnds({ ends: endsKey(at({ type: 'local', path: '/y' }), redact) }, key)).toBe(false);
  });
  it('hold no secret: the remote\'s words are redacted, then digested', () => {
    const key = endsKey(at({ type: 'git', url: 'https://oauth2:glpat-Secret123456@git.lab/x.git' }), makeRedactor({ GITLAB_TOKEN: 'glpat-Secret123456' }));
    expect(key).toMatch(/^v3:[0-9a-f]{32}$/);
    expect(key).toBe(endsKey(at({ type: 'git', url: 'https://oauth2:glpat-Other999999@git.lab/x.git' }), makeRedactor({ GITLAB_TOKEN: 'glpat-Other999999' })));
  });
});
