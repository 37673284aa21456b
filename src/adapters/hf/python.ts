// The Python that runs `hf`: the #! line of its entry point. pipx and venv installs both write one, so
// the listing script imports the same huggingface_hub the CLI runs, never the machine's Python.
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

let found: string | undefined;

export function hfPython(path = process.env.PATH ?? ''): string {
  if (found) return found;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      const script = realpathSync(join(dir, 'hf'));
      const fd = openSync(script, 'r');
      const head = Buffer.alloc(512);
      const n = readSync(fd, head, 0, 512, 0);
      closeSync(fd);
      const shebang = /^#!(\S*python[\d.]*)\s*$/m.exec(head.subarray(0, n).toString('utf8').split('\n', 1)[0] ?? '');
      if (shebang?.[1]) return (found = shebang[1]);
    } catch {
      // not in this folder
    }
  }
  // No hf on PATH: starting "hf" fails as not installed, with the install hint.
  return 'hf';
}
