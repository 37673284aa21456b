import { describe, expect, it } from 'vitest';
import type { Command } from '../types.js';
import { classify } from './classify.js';

const push: Command = { tool: 'git', args: ['push'], cwd: '/', env: {}, mutates: true, label: 'push', pair: 'repo' };
const out = (stderr: string, exitCode = 128) => ({ exitCode, stdout: '', stderr, timedOut: false, aborted: false, durationMs: 1 });

describe('git classify: what is not worth a retry', () => {
  it('a repository the host says is not there (GitHub, GitLab) is fatal, not the network', () => {
    expect(classify(out('ERROR: Repository not found.\nfatal: Could not read from remote repository.'), push)).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^no such remote repository/) });
    expect(classify(out("remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://gitlab.example/x.git/' not found"), push)).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^no such remote repository/) });
  });
  it('an https 401/403 is refused access; a dropped link is still retried', () => {
    expect(classify(out("fatal: unable to access 'https://git.example/x.git/': The requested URL returned error: 403"), push)).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^the remote refused access/) });
    expect(classify(out("fatal: unable to access 'https://git.example/x.git/': Could not resolve host: git.example"), push)).toMatchObject({ kind: 'retry' });
  });
  it('a submodule commit found on no remote is a safety stop', () => {
    // git 2.39's own text: the line break inside "cannot", then the hang-up that reads as the network.
    const said = 'The following submodule paths contain changes that can\nnot be found on any remote:\n  lib\n\nPlease try\n\n\tgit push --recurse-submodules=on-demand\n\nor cd to the path and use\n\n\tgit push\n\nto push them to a remote.\n\nfatal: Aborting.\nfatal: the remote end hung up unexpectedly\n';
    expect(classify(out(said, 128), push)).toMatchObject({ kind: 'fatal', safety: true });
  });
});
