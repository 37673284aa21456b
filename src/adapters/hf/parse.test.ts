import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseListError, parseListing, parseUploadCommit, parseVersion } from './parse.js';

// Recorded from huggingface_hub 2.4.0 against olah 0.5.4 and the test stand-in (test/harness/hub.ts).
const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/hf-2.4.0/${name}`, import.meta.url), 'utf8');

describe('hf parse', () => {
  it('lists LFS files by sha256 and git files by blob id, leaving the Hub\'s .gitattributes out, with the commit', () => {
    const entries = parseListing(fixture('list-tree.stdout'), '', ['/.gitattributes', '/.cache/huggingface/']);
    expect(entries.revision).toBe('ecb0dfa94fb3a30cd475dc0d99fa4070bc5b0c2c');
    expect([...entries]).toEqual([
      { path: 'config.json', size: 14, gitSha1: '70c7e957c13decd9e2629de84619bbbf2e3b9def' },
      { path: 'ckpt/model.bin', size: 11534336, sha256: '6aa19e16761ff5dabdae53a2581968133e1755d88657db923167cc8763092fc3' },
    ]);
  });

  it('leaves out what the pair excludes, by the path or a folder above it', () => {
    expect([...parseListing(fixture('list-tree.stdout'), '', ['*.json', '.gitattributes'])].map((e) => e.path)).toEqual(['ckpt/model.bin']);
    expect([...parseListing(fixture('list-tree.stdout'), '', ['ckpt/', '.gitattributes'])].map((e) => e.path)).toEqual(['config.json']);
  });

  it('lists a subfolder relative to it', () => {
    expect([...parseListing(fixture('list-tree-sub.stdout'), 'ckpt')].map((e) => e.path)).toEqual(['model.bin']);
  });

  it('reads the listing script\'s failure documents', () => {
    expect(parseListError(fixture('list-repo-not-found.stdout'))?.kind).toBe('repo_not_found');
    expect(parseListError(fixture('list-revision-not-found.stdout'))?.kind).toBe('revision_not_found');
    expect(parseListError(fixture('list-unreachable.stdout'))).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('Connection refused') });
    expect(parseListError(fixture('list-tree.stdout'))).toBeUndefined();
    expect(() => parseListing('{"revision": "nope", "files": []}', '')).toThrow();
  });

  it('reads the commit of hf upload --json and the version', () => {
    expect(parseUploadCommit(fixture('upload-json.stdout'))).toBe('ecb0dfa94fb3a30cd475dc0d99fa4070bc5b0c2c');
    expect(parseVersion(fixture('version.stdout'))).toBe('2.4.0');
  });
});
