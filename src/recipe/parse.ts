/**
 * Reading a recipe: YAML through `yaml`'s parseDocument (so every node keeps its source range), validation
 * with the zod schema, then the numbers and output formats resolved. Every error is a FwError naming the
 * recipe file and the line (and column) of the offending node: RECIPE_YAML for syntax, RECIPE_INVALID for the
 * schema, RECIPE_VALUE for values the schema cannot judge (a size that overflows, an unknown extension).
 */
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { EXIT_BAD_INPUT, FwError, isFwError, type Location } from '../core/errors.ts';
import { parseNumber } from '../core/parse-number.ts';
import { outputFormatFor, type OutputFormat } from '../convert/output.ts';
import type { SuffixValues } from '../convert/types.ts';
import { RecipeSchema, SLOT_NAME, type RecipeSource } from './schema.ts';

/** A slot of the recipe's slot map, or given inline (the same shape as the header engine's `Slot`). */
export interface RecipeSlot {
  name: string;
  start: number;
  size: number;
}

/** An input's header step (`inputs[].header`), slots resolved, numbers parsed. */
export interface RecipeHeaderStep {
  layout: string;
  slot: RecipeSlot;
  runSlot?: RecipeSlot;
  staging?: true;
  /** The image version (layout option `version`) from the step's `version` key. */
  version?: string;
  /** The other layout options by name (`options`). */
  options: Record<string, string | number | boolean>;
  headerSize?: number;
  headerOffset?: number;
  padHeader?: true;
  programUnit?: number;
  vectorAlign?: number;
}

export interface RecipeInput {
  path: string;
  address?: number;
  alt?: number;
  header?: RecipeHeaderStep;
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
  /** The slot map, in the recipe's order (the first is slot A). */
  slots: RecipeSlot[];
  inputs: RecipeInput[];
  targetNames: Map<number, string>;
  suffix: Partial<SuffixValues>;
  outputs: RecipeOutput[];
  manifest?: string;
  /** Where each node came from: `locate(['inputs', 1, 'path'])` gives its line, for errors found later. */
  locate(path: readonly (string | number)[]): Location;
}

type Path = readonly PropertyKey[];

/**
 * `e` relocated to the recipe node at `path`, its message prefixed with that node's name. A usage error
 * (exit 2) becomes bad input (exit 3): the recipe is the input that is wrong.
 */
export function atRecipe(recipe: Recipe, path: readonly (string | number)[], e: unknown, what: string): unknown {
  if (!isFwError(e)) return e;
  return new FwError(e.code, `${what}: ${e.message}`, recipe.locate(path), e.exitStatus === 2 ? 3 : e.exitStatus);
}

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
      if (issue.code === 'invalid_key') {
        const key = String(issue.path[issue.path.length - 1]);
        return { where: loc.key(issue.path.slice(0, -1), key), text: `${dotted(issue.path.slice(0, -1))}: '${key}': ${issue.issues[0]?.message ?? issue.message}` };
      }
      const message = valueAt(data, issue.path) === undefined ? 'missing (required)' : issue.message.replace(/^Invalid input: /, '');
      const text =
        issue.path[0] === 'steps'
          ? 'steps: no steps over the combined image exist in this version; an A/B header is a step of its input (inputs[].header)'
          : `${dotted(issue.path)}: ${message}`;
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

  const slotOf = (v: string | { address: number | string; size: number | string }, name: string, path: Path): RecipeSlot => {
    let start: number | undefined;
    let size: number | undefined;
    if (typeof v === 'string') {
      const plus = v.indexOf('+');
      start = parseNumber(v.slice(0, plus));
      size = parseNumber(v.slice(plus + 1), { sizeSuffix: true });
    } else {
      start = num(v.address, [...path, 'address'], { max: 0xffffffff });
      size = num(v.size, [...path, 'size'], { size: true });
    }
    if (start === undefined || size === undefined || size <= 0 || start + size > 0x1_0000_0000) {
      throw new FwError('RECIPE_VALUE', `${dotted(path)}: ${JSON.stringify(v)} is not a slot inside the 32-bit address space (start and a size above 0)`, loc.path(path), EXIT_BAD_INPUT);
    }
    return { name, start, size };
  };
  const slots: RecipeSlot[] = Object.entries(src.slots ?? {}).map(([name, v]) => slotOf(v, name, ['slots', name]));
  slots.forEach((a, i) => {
    for (const b of slots.slice(0, i)) {
      if (a.start < b.start + b.size && b.start < a.start + a.size) {
        throw new FwError('RECIPE_VALUE', `slots.${a.name} overlaps slots.${b.name}`, loc.path(['slots', a.name]), EXIT_BAD_INPUT);
      }
    }
  });
  const slotRef = (v: string | { address: number | string; size: number | string }, fallbackName: string, path: Path): RecipeSlot => {
    if (typeof v === 'string' && SLOT_NAME.test(v.trim())) {
      const s = slots.find((x) => x.name === v.trim());
      if (s === undefined) {
        const known = slots.length > 0 ? `the slots are ${slots.map((x) => x.name).join(', ')}` : 'the recipe has no `slots` map';
        throw new FwError('RECIPE_VALUE', `${dotted(path)}: no slot named '${v}' (${known})`, loc.path(path), EXIT_BAD_INPUT);
      }
      return s;
    }
    return slotOf(v, fallbackName, path);
  };
  type HeaderSource = NonNullable<RecipeSource['inputs'][number]['header']>;
  const header = (h: HeaderSource, i: number): RecipeHeaderStep => {
    const at = ['inputs', i, 'header'] as const;
    const slot = slotRef(h.slot, 'slot', [...at, 'slot']);
    if (h.version !== undefined && h.options?.version !== undefined) {
      throw new FwError('RECIPE_VALUE', `${dotted([...at, 'version'])}: the version is given twice (also in options)`, loc.path([...at, 'version']), EXIT_BAD_INPUT);
    }
    const step: RecipeHeaderStep = { layout: h.layout, slot, options: { ...(h.options ?? {}) } };
    if (h.version !== undefined) step.version = h.version;
    if (h.runSlot !== undefined && h.staging === true) {
      throw new FwError('RECIPE_VALUE', `${dotted([...at, 'staging'])}: give runSlot or staging, not both (staging takes runSlot from the slot map)`, loc.path([...at, 'staging']), EXIT_BAD_INPUT);
    }
    if (h.runSlot !== undefined) step.runSlot = slotRef(h.runSlot, 'run', [...at, 'runSlot']);
    if (h.staging === true) {
      if (slots.length === 0) throw new FwError('RECIPE_VALUE', `${dotted([...at, 'staging'])}: staging takes the slot the image is linked for from \`slots\`, and the recipe has none`, loc.path([...at, 'staging']), EXIT_BAD_INPUT);
      step.staging = true;
    }
    const sizes = {
      headerSize: num(h.headerSize, [...at, 'headerSize'], { size: true }),
      headerOffset: num(h.headerOffset, [...at, 'headerOffset'], { size: true }),
      programUnit: num(h.programUnit, [...at, 'programUnit'], { size: true }),
      vectorAlign: num(h.vectorAlign, [...at, 'vectorAlign'], { size: true }),
    };
    for (const [k, v] of Object.entries(sizes)) if (v !== undefined) step[k as keyof typeof sizes] = v;
    if (h.padHeader === true) step.padHeader = true;
    return step;
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
      if (input.header !== undefined) r.header = header(input.header, i);
      return r;
    }),
    slots,
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
