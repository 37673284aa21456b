// dist/cli-script.js: the CLI as one classic script, for bin/labsync.js to compile with V8's code cache.
// Node 20 keeps no code cache for ES modules, and compiling the ~1.2 MB a run loads cost every run
// ~50 ms of CPU before its first process (a no-op ssh push: 0.29 → 0.24 s of client CPU, measured).
// Lazily imported modules stay lazy (esbuild wraps each in an init function), so --help still
// evaluates commander only. import.meta.url becomes the script's own URL, so dist/hash-worker.js and
// dist/mlflow-client.js resolve as from the ESM build. Run after tsup (npm run build).
import { build } from 'esbuild';

// As tsup.config.ts: zod's 60-odd locale modules are never used.
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli-script.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@parcel/watcher'],
  plugins: [zodWithoutLocales],
  define: { 'import.meta.url': '__labsyncScriptUrl' },
  banner: { js: '"use strict";\nconst __labsyncScriptUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});

// esbuild escapes every non-ASCII character in code (its default charset) but keeps some comments as
// written: those few characters are made ASCII too, so bin/labsync.js can read the 1.5 MB script as
// latin1 (measured ~2 ms against ~5.5 ms decoding it as UTF-8 on every run). Only comments can hold
// them; anything else would be a change of esbuild's, and the build stops rather than guess.
{
  const { readFileSync, writeFileSync } = await import('node:fs');
  const lines = readFileSync('dist/cli-script.js', 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (/^[\x00-\x7f]*$/.test(line)) return;
    // A comment line (esbuild keeps them whole, each on its own line): the only place it leaves them.
    if (!/^\s*(\/\/|\/\*|\*)/.test(line)) throw new Error(`dist/cli-script.js:${i + 1}: a non-ASCII character outside a comment; bin/labsync.js reads the script as latin1`);
    lines[i] = line.replace(/[^\x00-\x7f]/g, '?');
  });
  writeFileSync('dist/cli-script.js', lines.join('\n'));
}
