// conflict: and compare: — rclone bisync's options, checked where they are written.
import { describe, expect, it } from 'vitest';
import { ManifestError, formatIssue } from '../errors.js';
import { loadManifestText } from './load.js';

const FILE = '/lab/labsync.yaml';

function load(pair: string): { problems: string[]; pairs: ReturnType<typeof loadManifestText>['pairs'] } {
  const text = `version: 1\nremotes:\n  nas: { type: local, path: /mnt/nas }\n  ftp: { type: rclone, remote: f, config: { type: ftp } }\ndata:\n${pair}`;
  try {
    return { problems: [], pairs: loadManifestText(text, FILE, {}).pairs };
  } catch (error) {
    if (error instanceof ManifestError) return { problems: error.issues.map(formatIssue), pairs: [] };
    throw error;
  }
}

describe('bisync conflict and compare', () => {
  it('resolves a policy and a comparison on an rclone bisync pair', () => {
    const { problems, pairs } = load('  - name: notes\n    tool: rclone\n    mode: bisync\n    local: notes\n    remote: nas:notes\n    conflict: newer\n    compare: size,modtime,checksum\n');
    expect(problems).toEqual([]);
    expect(pairs[0]).toMatchObject({ conflict: 'newer', compare: ['size', 'modtime', 'checksum'] });
    expect(load('  - name: notes\n    tool: rclone\n    mode: bisync\n    local: notes\n    remote: nas:notes\n').pairs[0]?.conflict).toBeUndefined();
  });

  it('names the line of an unknown policy or comparison, and where they do not apply', () => {
    expect(load('  - name: notes\n    tool: rclone\n    mode: bisync\n    local: notes\n    remote: nas:notes\n    conflict: newest\n').problems)
      .toEqual([expect.stringMatching(/labsync\.yaml:11:15 data\.notes: conflict: .*'newest' is not one of: keep-both, newer.*did you mean 'newer'/)]);
    expect(load('  - name: notes\n    tool: rclone\n    mode: bisync\n    local: notes\n    remote: nas:notes\n    compare: size,hash\n').problems)
      .toEqual([expect.stringMatching(/labsync\.yaml:11:\d+ .*compare.*size, modtime, checksum/)]);
    expect(load('  - name: raw\n    tool: rclone\n    local: raw\n    remote: nas:raw\n    conflict: newer\n').problems)
      .toEqual([expect.stringMatching(/labsync\.yaml:10:\d+ data\.raw: conflict: applies only to a bisync pair with rclone \(this pair: rclone push\)/)]);
    expect(load('  - name: raw\n    tool: rsync\n    local: raw\n    remote: nas:raw\n    compare: checksum\n').problems)
      .toEqual([expect.stringMatching(/compare: applies only to a bisync pair with rclone \(this pair: rsync push\)/)]);
  });

  it('refuses a checksum comparison with a remote that keeps no hashes', () => {
    expect(load('  - name: notes\n    tool: rclone\n    mode: bisync\n    local: notes\n    remote: ftp:notes\n    compare: size,checksum\n').problems)
      .toEqual([expect.stringMatching(/compare: checksum needs a remote that keeps hashes; rclone remote 'f' \(type ftp\) keeps none/)]);
  });
});
