// Thousands of mutated manifests: each either loads or fails as a ManifestError with located issues —
// never another exception (a stack trace is a bug). Deterministic: a seeded generator, so a failure replays.
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../errors.js';
import { loadManifestText } from './load.js';

const SEED = `version: 1
defaults:
  retries: 2
  timeout: 10m
  exclude: ["*.tmp", "__pycache__/**"]
  notify: { success: "http://127.0.0.1:9/ok" }
remotes:
  nas: { type: local, path: /mnt/nas }
  s3: { type: s3, bucket: b, prefix: p, endpoint: "http://127.0.0.1:9" }
  gpu: { type: ssh, host: gpu, user: u, port: 22, path: /srv }
code:
  - { name: repo, local: ., remote: origin, branch: main, lfs: true }
data:
  - name: raw
    local: data/raw
    remote: nas:raw
    delete: true
    max_delete: 10%
    hooks: { before: ["true"] }
    schedule: "0 * * * *"
  - { name: feats, tool: dvc, local: data/f, remote: "s3:dvc" }
models:
  - { name: ckpt, local: models, remote: "gpu:models", bwlimit: 10M, tags: [hourly] }
`;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const JUNK = ['\t', ':', '- ', '&a ', '*a', '!!binary ', '{', '}', '[', ']', '"', "'", '#', '\n', '  ', '010', 'yes', '~', '${X}', '../', '\u0000', '%', '@', '`', '|', '>', '?', ',', 'null', '-1', '1e999', 'ä', '\\'];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * out.length);
    const kind = Math.floor(random() * 4);
    if (kind === 0) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
    else if (kind === 1) out = out.slice(0, at) + (JUNK[Math.floor(random() * JUNK.length)] as string) + out.slice(at);
    else if (kind === 2) {
      const lines = out.split('\n');
      const a = Math.floor(random() * lines.length);
      lines.splice(a, 0, lines[Math.floor(random() * lines.length)] as string);
      out = lines.join('\n');
    } else out = out.slice(0, at) + out.slice(at).replace(/[a-z]/, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 1) % 26) + 97));
  }
  return out;
}

describe('manifest fuzz', () => {
  it('3,000 mutated manifests: every failure is a located ManifestError', () => {
    const random = rng(20261125);
    let failures = 0;
    for (let i = 0; i < 3000; i++) {
      const text = mutate(SEED, random);
      try {
        loadManifestText(text, '/lab/labsync.yaml', {});
      } catch (error) {
        if (!(error instanceof ManifestError)) throw new Error(`case ${i} threw ${(error as Error).name}: ${(error as Error).message}\n---\n${text}`);
        failures++;
        for (const issue of error.issues) {
          expect(issue.line, `case ${i}`).toBeGreaterThanOrEqual(1);
          expect(issue.col, `case ${i}`).toBeGreaterThanOrEqual(1);
          expect(issue.message.length, `case ${i}`).toBeGreaterThan(0);
        }
        expect(error.issues.length, `case ${i}: an error must say what is wrong`).toBeGreaterThan(0);
      }
    }
    // The mutations are meant to break things: most must have been refused, not silently accepted.
    expect(failures).toBeGreaterThan(1500);
    // ~3 s alone; beside the integration tests on a 2-core CI machine it has taken 5.7 s.
  }, 30_000);
});
