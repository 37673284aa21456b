import { defineConfig } from 'tsup';

// One ESM bundle with lazy chunks: `--help`/`--version` load only cli.js + commander,
// every command handler (and execa, pino, zod with it) is a dynamic import.
export default defineConfig({
  // The hash worker is its own entry: worker threads load it by path (dist/hash-worker.js).
  entry: { cli: 'src/cli.ts', 'hash-worker': 'src/verify/hash-worker.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  clean: true,
  outDir: 'dist',
});
