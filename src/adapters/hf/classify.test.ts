import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command, ToolOutput } from '../types.js';
import { classify } from './classify.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/hf-2.4.0/${name}`, import.meta.url), 'utf8');
const recorded = (name: string, exitCode: number): ToolOutput => ({ exitCode, stdout: fixture(`${name}.stdout`), stderr: fixture(`${name}.stderr`), durationMs: 1, timedOut: false, aborted: false });
const cmd: Command = { tool: 'hf', args: ['download'], cwd: '/', mutates: true, label: 'pull 2 files from hf repo org/m@main' };

describe('hf classify (recorded output of huggingface_hub 2.4.0)', () => {
  it('hf download exiting 0 with "Returning existing local_dir" is a failure to retry, never success', () => {
    const out = classify(recorded('download-unreachable-nonempty', 0), cmd);
    expect(out).toMatchObject({ kind: 'retry', reason: expect.stringContaining('Returning existing local_dir') });
  });

  it('an unreachable Hub is transient, for the listing and for hf upload', () => {
    expect(classify(recorded('list-unreachable', 3), cmd).kind).toBe('retry');
    expect(classify(recorded('upload-unreachable', 1), cmd).kind).toBe('retry');
  });

  it('a missing repo or revision is fatal and named, from the listing and from hf download', () => {
    for (const name of ['list-repo-not-found', 'download-repo-not-found']) {
      expect(classify(recorded(name, name.startsWith('list') ? 3 : 1), cmd)).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/org\/m@main: the repo does not exist.*create: true/) });
    }
    for (const name of ['list-revision-not-found', 'download-revision-not-found']) {
      expect(classify(recorded(name, name.startsWith('list') ? 3 : 1), cmd)).toMatchObject({ kind: 'fatal', reason: expect.stringContaining('the revision does not exist') });
    }
  });

  it('success is success; a timeout is retried', () => {
    expect(classify(recorded('upload-json', 0), cmd)).toEqual({ kind: 'ok' });
    expect(classify({ ...recorded('upload-json', 1), timedOut: true }, cmd).kind).toBe('retry');
  });
  it('HF_HUB_OFFLINE set is said and not retried (the client raises a ConnectionError for it)', () => {
    const out = (stdout: string, stderr = ''): ToolOutput => ({ exitCode: 3, stdout, stderr, durationMs: 1, timedOut: false, aborted: false });
    expect(classify(out('{"error": "offline", "message": ["Cannot reach https://127.0.0.1/api: offline mode is enabled. To disable it, please unset the `HF_HUB_OFFLINE` environment variable."]}'), cmd)).toMatchObject({ kind: 'fatal', hint: expect.stringMatching(/unset HF_HUB_OFFLINE/) });
    expect(classify(out('', 'huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://127.0.0.1: offline mode is enabled.'), cmd)).toMatchObject({ kind: 'fatal' });
  });
});
