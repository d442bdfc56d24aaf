/**
 * A YAML data file validated by a zod schema, with every problem located: YAML syntax errors, schema issues
 * and the caller's semantic issues all become FwErrors naming the file, line and column of the node at fault.
 * Shared by the compile scripts of chip profiles and header layouts.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { FwError } from '../src/core/errors.ts';

export type IssuePath = readonly (string | number)[];

export interface ParsedYaml {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Line/column (1-based) of the deepest YAML node that exists along `path`. */
function locate(p: ParsedYaml, path: IssuePath): { line: number; column: number } {
  let node: unknown = p.doc.contents;
  let range: [number, number, number] | undefined = (node as { range?: [number, number, number] } | null)?.range ?? undefined;
  for (const key of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === key);
      if (pair === undefined) break;
      // Point at the key: a missing or bad value is easiest to find by its key.
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      next = pair.value;
      const valueRange = (next as { range?: [number, number, number] } | null)?.range;
      range = valueRange ?? keyRange ?? range;
      if (keyRange != null && (isMap(next) || isSeq(next)) && next.flow !== true) range = keyRange;
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
      if (next === undefined) break;
      range = (next as { range?: [number, number, number] }).range ?? range;
    } else break;
    node = next;
  }
  const pos = p.lines.linePos(range?.[0] ?? 0);
  return { line: pos.line, column: pos.col };
}

/** An error at the node `path` points to, the path named in the message. */
export function issueError(p: ParsedYaml, code: string, path: IssuePath, message: string): FwError {
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  return new FwError(code, `${where}${message}`, { file: p.file, ...locate(p, path) });
}

/**
 * Parses `text` and validates it against `schema`. On success returns the data with the parsed document
 * (for locating later semantic issues); otherwise pushes located errors (`<prefix>_YAML` for syntax,
 * `<prefix>_SCHEMA` for schema issues) and returns undefined.
 */
export function parseYamlSource<T>(
  file: string,
  text: string,
  schema: z.ZodType<T>,
  codes: { syntax: string; schema: string },
  errors: FwError[],
): { parsed: ParsedYaml; data: T } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const parsed: ParsedYaml = { file, doc, lines };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      errors.push(new FwError(codes.syntax, e.message.split('\n')[0]!, { file, line: pos.line, column: pos.col }));
    }
    return undefined;
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
      errors.push(issueError(parsed, codes.schema, keys.length > 0 ? [...path, keys[0]!] : path, issue.message));
    }
    return undefined;
  }
  return { parsed, data: result.data };
}

/** `schemas/chips/stm32h743.yaml` → `stm32h743`. */
export function baseName(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
}
