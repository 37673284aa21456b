import { defineConfig, type Options } from 'tsup';

// One ESM bundle with lazy chunks: `--help`/`--version` load only cli.js + commander,
// every command handler (and zod with it) is a dynamic import. scripts/build-script.mjs makes the same
// CLI as one classic script for bin/labsync.js to start with V8's code cache.
// zod's classic build re-exports every locale's messages (`z.locales`, 60-odd modules): labsync uses
// none but the default English one, which zod imports on its own. Evaluating them cost every command
// that loads the manifest ~10 ms; they resolve to an empty module instead.
const zodWithoutLocales: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

const esm: Options = {
  // Worker threads load their code by path: dist/hash-worker.js is an entry of their own.
  // dist/mlflow-client.js is the MLflow REST client the mlflow adapter's commands start (with node itself).
  // dist/folder-answers.js answers watch's questions about its pair folders (folder-asker.ts), in a child of its own.
  entry: { cli: 'src/cli.ts', 'hash-worker': 'src/verify/hash-worker.ts', 'mlflow-client': 'src/mlflow-client/main.ts', 'folder-answers': 'src/commands/folder-answers.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  clean: true,
  outDir: 'dist',
  // Dependencies are bundled into the lazy chunks: resolving them from node_modules at run time
  // cost ~140 ms per command here; bundled, a command starts in a fraction of that. So they are
  // devDependencies: the package installs with only what cannot be bundled (test/package.test.ts fails
  // if the bundle loads a package that package.json's dependencies do not list).
  // @parcel/watcher is that exception: native, it loads its platform's prebuilt binary by package name
  // at run time, so it stays a dependency resolved from node_modules.
  noExternal: [/^(?!@parcel\/watcher)/],
  external: ['@parcel/watcher'],
  esbuildPlugins: [zodWithoutLocales],
  // Some dependencies still call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __labsyncCreateRequire } from 'node:module'; const require = __labsyncCreateRequire(import.meta.url);" },
};

export default defineConfig(esm);
