// What an AI project keeps out of git and dvc. `labsync init` merges these, never clobbering.
export const GITIGNORE_LINES = [
  '# labsync state, locks, logs and receipts',
  '.labsync/',
  '# data and models travel by labsync/dvc, not git (dvc pointer files stay tracked)',
  '/data/**',
  '!/data/**/',
  '!/data/**/*.dvc',
  '!/data/**/.gitignore',
  '/models/**',
  '!/models/**/',
  '!/models/**/*.dvc',
  'checkpoints/',
  '*.ckpt',
  '*.pt',
  '*.pth',
  '*.safetensors',
  '*.onnx',
  '*.h5',
  '# experiment outputs',
  'wandb/',
  'mlruns/',
  'runs/',
  'outputs/',
  'lightning_logs/',
  '# caches',
  '__pycache__/',
  '*.py[cod]',
  '.ipynb_checkpoints/',
  '.pytest_cache/',
  '.venv/',
  '.DS_Store',
  '*.tmp',
] as const;

export const DVCIGNORE_LINES = [
  '# labsync state',
  '.labsync/',
  '# caches and editor litter',
  '__pycache__/',
  '*.py[cod]',
  '.ipynb_checkpoints/',
  '.DS_Store',
  '*.tmp',
] as const;

/** The lines of `wanted` not yet in `existing` (comments count as present only if identical). */
export function missingLines(existing: string, wanted: readonly string[]): string[] {
  const have = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = wanted.filter((l) => !have.has(l));
  // A lone comment whose entries are all present would be noise.
  return missing.filter((l, i) => !l.startsWith('#') || (missing[i + 1] !== undefined && !missing[i + 1]?.startsWith('#')));
}
