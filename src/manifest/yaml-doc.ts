// YAML → a plain value, keeping the document so every later message can point at a line and column.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ManifestIssue } from '../errors.js';

export interface ParsedYaml {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly value: unknown;
}

export type Path = readonly (string | number)[];

const MAX_BYTES = 1024 * 1024;
// Billion-laughs guard: a manifest has no use for more aliases than this.
const MAX_ALIASES = 100;

export function parseYaml(text: string, file: string): { parsed?: ParsedYaml; issues: ManifestIssue[] } {
  const at = (line: number, col: number, message: string): ManifestIssue => ({ file, line, col, message });
  if (Buffer.byteLength(text) > MAX_BYTES) {
    return { issues: [at(1, 1, `the manifest is larger than ${MAX_BYTES / 1024} KiB; a manifest names pairs, it holds no data`)] };
  }
  const lines = new LineCounter();
  // YAML 1.2 core schema: `yes`, `no`, `on` stay strings (the schema then says a boolean was expected).
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: false, version: '1.2', merge: true });
  const issues: ManifestIssue[] = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    const message =
      e.code === 'DUPLICATE_KEY'
        ? 'duplicate key: each key may appear once in a mapping'
        : e.code === 'MULTIPLE_DOCS'
          ? 'a second YAML document starts here: a manifest is one document (remove this `---` and what follows it, or move that into a file of its own)'
          : (e.message.split('\n')[0] ?? e.message);
    return at(pos.line, pos.col, message);
  });
  if (issues.length) return { issues };
  // A tag the core schema does not know (`!env DATA`, `!!float abc`) is only a warning to the parser,
  // which keeps the bare text: `local: !env DATA` had become the folder DATA (review 41).
  for (const w of doc.warnings) {
    const pos = lines.linePos(w.pos[0]);
    const said = (w.message.split('\n')[0] ?? w.message).replace(/\.$/, '');
    issues.push(at(pos.line, pos.col, w.code === 'TAG_RESOLVE_FAILED' ? `${said}: a manifest uses plain YAML values (environment variables as \${VAR})` : said));
  }

  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN' || !node.range) return;
      const source = text.slice(node.range[0], node.range[1]);
      if (/^[-+]?0\d+$/.test(source)) {
        const pos = lines.linePos(node.range[0]);
        issues.push(at(pos.line, pos.col, `ambiguous number ${source}: octal in YAML 1.1, decimal in YAML 1.2; write it without the leading zero, or quote it`));
      }
    },
  });

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return { issues: [...issues, at(1, 1, `cannot read the manifest: ${(error as Error).message}`)] };
  }
  if (value === null || value === undefined) return { issues: [at(1, 1, 'the manifest is empty; it needs at least `version: 1`')] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [at(1, 1, 'the manifest must be a mapping of keys (version, defaults, remotes, code, data, models)')] };
  }
  return { parsed: { file, doc, lines, value }, issues };
}

function keyOf(node: unknown): unknown {
  return isScalar(node) ? node.value : node;
}

/** Line and column of the node at `path`, or of its nearest existing ancestor. With `key`, of that key in the map at `path`. */
export function locate(parsed: ParsedYaml, path: Path, key?: string): { line: number; col: number } {
  let node: unknown = parsed.doc.contents;
  let best = node as Node | null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyOf(p.key) === segment);
      if (!pair) break;
      node = pair.value;
      best = (pair.value ?? pair.key) as Node;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!node) break;
      best = node as Node;
    } else break;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => keyOf(p.key) === key);
    if (pair?.key) best = pair.key as Node;
  }
  const offset = best?.range?.[0] ?? 0;
  return parsed.lines.linePos(offset);
}
