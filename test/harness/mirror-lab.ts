// A lab with one rsync pair `raw`, to a local folder remote or to the test sshd, for the tests that run
// the same steps over both movers; `far(...)`: a path in the pair's remote folder.
import { inject } from 'vitest';
import { Lab } from './lab.js';
import { sshPairManifest } from './ssh-manifest.js';

export type MirrorKind = 'local' | 'ssh';

/** The pair's lines after its remote, four spaces in (a mirror excluding *.tmp by default). */
export const MIRROR = '    delete: true\n    exclude: ["*.tmp"]\n';

export function mirrorLab(kind: MirrorKind, pairLines = MIRROR): { lab: Lab; far: (...p: string[]) => string } {
  const lab = new Lab();
  if (kind === 'local') {
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n${pairLines}`);
    return { lab, far: (...p) => lab.outside('nas', ...p) };
  }
  const ssh = inject('sshHost');
  if (!ssh) throw new Error('mirrorLab: no test sshd (skip the test where sshHost is not provided)');
  lab.manifest(sshPairManifest(ssh, lab, { pair: pairLines }));
  return { lab, far: (...p) => lab.outside('gpu', 'raw', ...p) };
}

/** Each mover with its test name, and whether it can run here. */
export const MIRROR_KINDS = [['rsync, a local folder remote', 'local', true], ['rsync over ssh (test sshd)', 'ssh', Boolean(inject('sshHost'))]] as const;
