import { defineConfig } from 'tsup';

// One ESM bundle with lazy chunks: `--help`/`--version` load only cli.js + commander,
// every command handler (and execa, pino, zod with it) is a dynamic import.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: true,
  clean: true,
  outDir: 'dist',
});
