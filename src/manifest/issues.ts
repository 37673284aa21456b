// Zod's issues, said in the manifest's terms and located in the file.
import type { z } from 'zod';
import type { ManifestIssue } from '../errors.js';
import type { Redactor } from '../exec/redact.js';
import { CATEGORIES } from '../types.js';
import { KNOWN_KEYS_TAG } from './schema.js';
import { didYouMean } from './suggest.js';
import { locate, type ParsedYaml, type Path } from './yaml-doc.js';

const YAML11_BOOLEANS = new Set(['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'false']);

function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

/** `data.processed` for a path inside a pair, `remotes.lab-s3` inside a remote. */
export function ownerOf(value: unknown, path: Path): { label?: string; depth: number } {
  const [head, index] = path;
  if (typeof head === 'string' && (CATEGORIES as readonly string[]).includes(head) && typeof index === 'number') {
    const name = valueAt(value, [head, index, 'name']);
    return { label: `${head}.${typeof name === 'string' ? name : `#${index + 1}`}`, depth: 2 };
  }
  if (head === 'remotes' && typeof index === 'string') return { label: `remotes.${index}`, depth: 2 };
  return { depth: 0 };
}

export function fieldName(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** `redact` first, then cut: a token cut short would no longer be recognised as the secret it is. */
function describe(value: unknown, redact: Redactor): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = redact(value);
    return `the string '${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}'`;
  }
  return `${typeof value} ${String(value)}`;
}

/** A located issue. `key`: point at that key of the map at `path`, and say the message bare. */
export function issueAt(parsed: ParsedYaml, path: Path, message: string, key?: string): ManifestIssue {
  const { label, depth } = ownerOf(parsed.value, path);
  const field = fieldName(path.slice(depth));
  const { line, col } = locate(parsed, path, key);
  const text = field && key === undefined ? `${field}: ${message}` : message;
  return { file: parsed.file, line, col, ...(label ? { pair: label } : {}), message: text };
}

export function zodIssues(parsed: ParsedYaml, value: unknown, error: z.ZodError, redact: Redactor = (t) => t): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = issue.message.startsWith(KNOWN_KEYS_TAG) ? issue.message.slice(KNOWN_KEYS_TAG.length).split(',') : [];
      for (const key of issue.keys) out.push(issueAt(parsed, path, `unknown key '${key}'${didYouMean(key, known)}`, key));
      continue;
    }
    const actual = valueAt(value, path);
    if (issue.code === 'invalid_type' && actual === undefined) {
      const key = String(path[path.length - 1]);
      const parent = path.slice(0, -1);
      const where = fieldName(parent.slice(ownerOf(value, parent).depth));
      out.push(issueAt(parsed, parent, `missing required key '${key}'${where ? ` in ${where}` : ''}`, key));
      continue;
    }
    if (issue.code === 'invalid_type') {
      let message = `expected ${issue.expected}, got ${describe(actual, redact)}`;
      if (issue.expected === 'boolean' && typeof actual === 'string' && YAML11_BOOLEANS.has(actual.toLowerCase())) {
        message += ' (YAML 1.2 reads yes/no/on/off as text: write true or false)';
      }
      out.push(issueAt(parsed, path, message));
      continue;
    }
    if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid')) {
      out.push(issueAt(parsed, path, `${describe(actual, redact)} is not one of: ${issue.values.map(String).join(', ')}${didYouMean(String(actual), issue.values.map(String))}`));
      continue;
    }
    out.push(issueAt(parsed, path, issue.message.replace(/^Invalid input: /, '')));
  }
  return out;
}
