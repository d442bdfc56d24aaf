/**
 * Reading a recipe: YAML through `yaml`'s parseDocument (so every node keeps its source range), validation
 * with the zod schema, then the numbers and output formats resolved. Every error is a FwError naming the
 * recipe file and the line (and column) of the offending node: RECIPE_YAML for syntax, RECIPE_INVALID for the
 * schema, RECIPE_VALUE for values the schema cannot judge (a size that overflows, an unknown extension).
 */
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { EXIT_BAD_INPUT, FwError, type Location } from '../core/errors.ts';
import { parseNumber } from '../core/parse-number.ts';
import { outputFormatFor, type OutputFormat } from '../convert/output.ts';
import type { SuffixValues } from '../convert/types.ts';
import { RecipeSchema, type RecipeSource } from './schema.ts';

export interface RecipeInput {
  path: string;
  address?: number;
  alt?: number;
}

export interface RecipeOutput {
  path: string;
  format: OutputFormat;
}

export interface Recipe {
  /** The recipe file as given, for errors and reports. */
  file: string;
  description?: string;
  chip?: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  align?: number;
  fill?: number;
  mergeGap?: number;
  overwrite: boolean;
  lenient?: string[];
  inputs: RecipeInput[];
  targetNames: Map<number, string>;
  suffix: Partial<SuffixValues>;
  outputs: RecipeOutput[];
  manifest?: string;
  /** Where each node came from: `locate(['inputs', 1, 'path'])` gives its line, for errors found later. */
  locate(path: readonly (string | number)[]): Location;
}

type Path = readonly PropertyKey[];

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  at(offset: number): Location {
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, column: p.col };
  }

  /** The deepest node along `path` that exists (a missing key points at its parent map). */
  node(path: Path): Node | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : (this.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined);
      if (node !== undefined && node !== null && typeof node === 'object' && 'range' in node && node.range) return node;
    }
    return undefined;
  }

  path(path: Path): Location {
    const node = this.node(path);
    return node?.range ? this.at(node.range[0]) : { file: this.file };
  }

  /** The key `key` of the map at `path` (for unknown keys). */
  key(path: Path, key: string): Location {
    const map = this.node(path);
    if (isMap(map)) {
      const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair !== undefined && isScalar(pair.key) && pair.key.range) return this.at(pair.key.range[0]);
    }
    return this.path(path);
  }
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function dotted(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s === '' ? '(top level)' : s;
}

export function parseRecipe(text: string, file: string): Recipe {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const loc = new Locator(doc, lines, file);
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) throw new FwError('RECIPE_YAML', `not valid YAML: ${yamlError.message}`, loc.at(yamlError.pos[0]), EXIT_BAD_INPUT);
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) throw new FwError('RECIPE_INVALID', 'the recipe is empty: it needs at least `recipe: 1`, `inputs` and `outputs`', { file }, EXIT_BAD_INPUT);

  const checked = RecipeSchema.safeParse(data);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return { where: loc.key(issue.path, issue.keys[0]!), text: `${dotted(issue.path)}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}` };
      }
      const message = valueAt(data, issue.path) === undefined ? 'missing (required)' : issue.message.replace(/^Invalid input: /, '');
      const text = issue.path[0] === 'steps' ? 'steps: no image steps exist in this version (reserved for A/B headers); remove them' : `${dotted(issue.path)}: ${message}`;
      return { where: loc.path(issue.path), text };
    });
    const first = problems[0]!;
    const more = problems.slice(1).map((p) => `\n  line ${p.where.line ?? '?'}: ${p.text}`).join('');
    throw new FwError('RECIPE_INVALID', `${first.text}${more}`, first.where, EXIT_BAD_INPUT);
  }
  return resolve(checked.data, file, loc);
}

function resolve(src: RecipeSource, file: string, loc: Locator): Recipe {
  const num = (v: number | string | undefined, path: Path, opts: { size?: boolean; max?: number } = {}): number | undefined => {
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : parseNumber(v, { sizeSuffix: opts.size === true });
    if (n === undefined || (opts.max !== undefined && n > opts.max)) {
      throw new FwError('RECIPE_VALUE', `${dotted(path)}: ${JSON.stringify(v)} is not a number${opts.max !== undefined ? ` up to 0x${opts.max.toString(16).toUpperCase()}` : ''}`, loc.path(path), EXIT_BAD_INPUT);
    }
    return n;
  };
  const relative = (p: string, path: Path): string => {
    if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p)) {
      throw new FwError('RECIPE_ABSOLUTE_PATH', `${dotted(path)}: '${p}' is absolute; paths in a recipe are relative to the recipe file`, loc.path(path), EXIT_BAD_INPUT);
    }
    return p;
  };

  const targetNames = new Map<number, string>();
  (src.targets ?? []).forEach((t, i) => {
    if (targetNames.has(t.alt)) throw new FwError('RECIPE_VALUE', `targets[${i}]: alt ${t.alt} is named twice`, loc.path(['targets', i, 'alt']), EXIT_BAD_INPUT);
    targetNames.set(t.alt, t.name);
  });

  const suffix: Partial<SuffixValues> = {};
  const vid = num(src.suffix?.vid, ['suffix', 'vid'], { max: 0xffff });
  const pid = num(src.suffix?.pid, ['suffix', 'pid'], { max: 0xffff });
  const bcd = num(src.suffix?.bcdDevice, ['suffix', 'bcdDevice'], { max: 0xffff });
  if (vid !== undefined) suffix.vid = vid;
  if (pid !== undefined) suffix.pid = pid;
  if (bcd !== undefined) suffix.bcdDevice = bcd;

  const outputs = src.outputs.map((o, i): RecipeOutput => {
    const path = relative(o.path, ['outputs', i, 'path']);
    try {
      return { path, format: outputFormatFor(path, o.format) };
    } catch (e) {
      if (e instanceof FwError) throw new FwError(e.code, `outputs[${i}]: ${e.message}`, loc.path(['outputs', i]), EXIT_BAD_INPUT);
      throw e;
    }
  });

  const recipe: Recipe = {
    file,
    overwrite: src.overwrite === true,
    inputs: src.inputs.map((input, i) => {
      const r: RecipeInput = { path: relative(input.path, ['inputs', i, 'path']) };
      const address = num(input.address, ['inputs', i, 'address'], { max: 0xffffffff });
      if (address !== undefined) r.address = address;
      if (input.alt !== undefined) r.alt = input.alt;
      return r;
    }),
    targetNames,
    suffix,
    outputs,
    locate: (path) => loc.path(path),
  };
  const optional = {
    flashSize: num(src.flashSize, ['flashSize'], { size: true }),
    align: num(src.align, ['align'], { size: true }),
    fill: num(src.fill, ['fill'], { max: 0xff }),
    mergeGap: num(src.mergeGap, ['mergeGap'], { size: true }),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) recipe[k as keyof typeof optional] = v;
  if (src.description !== undefined) recipe.description = src.description;
  if (src.chip !== undefined) recipe.chip = src.chip;
  if (src.bankMode !== undefined) recipe.bankMode = src.bankMode;
  if (src.lenient !== undefined) recipe.lenient = src.lenient;
  if (src.manifest !== undefined) recipe.manifest = relative(src.manifest, ['manifest']);
  return recipe;
}
