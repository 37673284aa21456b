import { describe, expect, it } from 'vitest';
import { ManifestError } from '../errors.js';
import { loadManifestText } from './load.js';

const load = (pairs: string): unknown => loadManifestText(`version: 1\nremotes:\n  nas: { type: local, path: /nas }\ndata:\n${pairs}`, '/lab/labsync.yaml', {}, '/lab');

describe('a mirror whose folder holds another pair\'s folder', () => {
  it('is a manifest error naming both pairs and the exclude that fixes it (review 37: its deletions removed the inner pair\'s files)', () => {
    const bad = (): unknown => load('  - { name: outer, local: data, remote: "nas:data", delete: true }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n');
    expect(bad).toThrow(ManifestError);
    expect(bad).toThrow(/this pair mirrors \(delete: true\) a folder that holds the pair data\.inner \(ckpt\/\).*Add exclude: \["\/ckpt\/"\]/);
  });
  it('is fine with that exclude, without delete: true, or for folders side by side', () => {
    expect(() => load('  - { name: outer, local: data, remote: "nas:data", delete: true, exclude: ["/ckpt/"] }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n')).not.toThrow();
    expect(() => load('  - { name: outer, local: data, remote: "nas:data" }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n')).not.toThrow();
    expect(() => load('  - { name: a, local: data/a, remote: "nas:a", delete: true }\n  - { name: b, local: data/ab, remote: "nas:ab" }\n')).not.toThrow();
  });
});

describe('a code pair\'s name', () => {
  const code = (name: string): unknown => loadManifestText(`version: 1\ncode:\n  - { name: "${name}", local: ., remote: /git/origin.git, branch: main }\n`, '/lab/labsync.yaml', {}, '/lab');
  it('that git refuses as a ref component is a manifest error naming it (every fetch into refs/labsync/<name> failed)', () => {
    for (const bad of ['x.lock', 'a..b', 'end.', '.hidden']) expect(() => code(bad), bad).toThrow(/a code pair's name is part of a git ref/);
    expect(() => code('repo-1')).not.toThrow();
  });
});
