// A test server's stop (test/harness: stopSshd, stopMoto, …) resolves once the server has exited: a
// caller that drops the promise may remove the server's folder while it still writes there. No linter
// runs here, and TypeScript lets a promise go unused: this parses every test file (syntax only, fast)
// and names each such call whose promise is dropped. `void stopX()` drops one on purpose.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const parse = (file: string, text: string): ts.SourceFile => ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);

/** The stop* functions `source` exports that return a promise (async, or declared `Promise<…>`). */
function promisedStops(source: ts.SourceFile): string[] {
  return source.statements.flatMap((s) => {
    if (!ts.isFunctionDeclaration(s) || !s.name || !/^stop[A-Z]/.test(s.name.text)) return [];
    const mods = ts.getModifiers(s) ?? [];
    if (!mods.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return [];
    const async = mods.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
    return async || /^Promise</.test(s.type?.getText(source) ?? '') ? [s.name.text] : [];
  });
}

const isPromiseAll = (node: ts.Node): boolean =>
  ts.isCallExpression(node) && /^Promise\.(all|allSettled)$/.test(node.expression.getText());

/** Whether the value at `node` is awaited, returned, voided on purpose, or handed to Promise.all. */
function kept(node: ts.Node): boolean {
  const up = node.parent;
  if (ts.isParenthesizedExpression(up) || (ts.isBinaryExpression(up) && up.right === node && /^(&&|\|\||\?\?)$/.test(up.operatorToken.getText()))) return kept(up);
  if (ts.isConditionalExpression(up) && up.condition !== node) return kept(up);
  if (ts.isArrayLiteralExpression(up)) return isPromiseAll(up.parent);
  return ts.isAwaitExpression(up) || ts.isReturnStatement(up) || ts.isVoidExpression(up) || (ts.isArrowFunction(up) && up.body === node) || isPromiseAll(up);
}

/** `file:line: call` for each call of one of `stops` in `source` whose promise is dropped. */
function droppedStops(source: ts.SourceFile, stops: ReadonlySet<string>, name = source.fileName): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && stops.has(node.expression.text) && !kept(node)) {
      found.push(`${name}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}: ${node.getText(source)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('a test server stopped is awaited before its folder goes', () => {
  const harness = tsFiles(join(ROOT, 'test', 'harness'));
  const stops = new Set(harness.flatMap((f) => promisedStops(parse(f, readFileSync(f, 'utf8')))));

  it('finds the harness\'s stops that return a promise', () => {
    for (const known of ['stopSshd', 'stopMoto', 'stopVersitygw', 'stopMlflow', 'stopHub', 'stopSlurm']) expect(stops).toContain(known);
  });

  it('names a dropped promise, and takes await, return, void, an arrow\'s body and Promise.all', () => {
    const text = [
      'afterAll(() => { stopSshd(host); });',
      'if (x) stopMoto(s);',
      'const p = stopHub(h);',
      'later(stopSshd(host));',
      'afterAll(async () => { await stopSshd(host); });',
      'afterAll(() => stopSshd(host));',
      'function f() { return stopMoto(s); }',
      'void stopMoto(s);',
      'await Promise.all([a && stopSshd(a), b ? stopMoto(b) : undefined]);',
      'const g = async () => { await (x ?? stopHub(h)); };',
      'stopWorker(0);',
    ].join('\n');
    expect(droppedStops(parse('t.ts', text), stops)).toEqual([
      't.ts:1: stopSshd(host)',
      't.ts:2: stopMoto(s)',
      't.ts:3: stopHub(h)',
      't.ts:4: stopSshd(host)',
    ]);
  });

  it('no test or harness file drops one', () => {
    const files = [...tsFiles(join(ROOT, 'test')), ...tsFiles(join(ROOT, 'src')), ...tsFiles(join(ROOT, 'bench'))];
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => droppedStops(parse(f, readFileSync(f, 'utf8')), stops, relative(ROOT, f)))).toEqual([]);
  });
});
