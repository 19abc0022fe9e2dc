// The one command-line flag parser of the CLIs: a declarative spec per flag, on top of node:util parseArgs.
//
//   const FLAGS = defineFlags({
//     cash: { kind: 'number', default: 100_000, min: 0, minExclusive: true, max: 1e12, arg: 'N', help: 'starting cash' },
//     interval: { kind: 'choice', choices: ['1m', '1d'], default: '1d', help: 'bar interval' },
//     paper: { kind: 'boolean', help: 'a paper account' },
//   });
//   const { values, positionals } = parseFlags(FLAGS);      // values.cash: number, values.interval: '1m' | '1d'
//   if (values.help) console.log(`usage: ...\n${flagHelp(FLAGS)}`);
//
// Every flag is checked before the CLI does anything; an error (a FlagError) names the flag and the rule:
//   --cash must be a number, got 'abc'           --cash must be at most 1e12, got 1e20
//   --quantity must be a whole number, got 2.5    --interval must be one of 1m, 1d, got '7m'
//   unknown option --foo (see --help)
// A number is a plain decimal literal (digits, optional sign, fraction and exponent): '', spaces, 'NaN',
// 'Infinity', hex ('0x10'), binary, octal and '1_000' are refused, and so is any value that does not fit
// in a double (1e400). Every CLI gets -h/--help (values.help).
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../engine/core/config-error.ts';

/** A usage error: the message names the flag and the rule; a CLI prints it without a stack. */
export class FlagError extends Error {
  override name = 'FlagError';
}

interface Common {
  /** one line (or several, split on \n) for the help text; bounds and the default are appended from the spec */
  help?: string;
  /** the value's placeholder in the help text (default N for numbers, VALUE otherwise) */
  arg?: string;
  /** a one-letter alias: -x */
  short?: string;
  /** kept out of the generated help (documented elsewhere in the CLI's usage text) */
  hidden?: boolean;
}

export interface NumberBounds {
  min?: number;
  max?: number;
  /** min itself is refused (x > min) */
  minExclusive?: boolean;
  /** max itself is refused (x < max) */
  maxExclusive?: boolean;
}

export type StringFlag = Common & { kind: 'string'; default?: string /** refuse '' */; nonEmpty?: boolean };
export type NumberFlag = Common & NumberBounds & { kind: 'number'; default?: number };
export type IntegerFlag = Common & NumberBounds & { kind: 'integer'; default?: number };
export type BooleanFlag = Common & { kind: 'boolean'; default?: boolean };
export type ChoiceFlag = Common & { kind: 'choice'; choices: readonly string[]; default?: string };
/** comma-separated: trimmed, empties dropped; a given list must name at least one item */
export type ListFlag = Common & { kind: 'list'; default?: readonly string[]; upper?: boolean };

export type FlagSpec = StringFlag | NumberFlag | IntegerFlag | BooleanFlag | ChoiceFlag | ListFlag;
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S> = S extends { kind: 'number' | 'integer' }
  ? number
  : S extends { kind: 'boolean' }
    ? boolean
    : S extends { kind: 'list' }
      ? string[]
      : S extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : string;

/** The parsed values: a flag with a default (and every boolean) is always set, the others may be undefined. */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F]: F[K] extends { kind: 'boolean' } | { default: unknown } ? ValueOf<F[K]> : ValueOf<F[K]> | undefined;
} & { help: boolean };

/** Keeps the literal types of a spec (choices, kinds) without `as const` at every use. */
export function defineFlags<const F extends FlagSpecs>(spec: F): F {
  for (const [name, s] of Object.entries(spec)) {
    if (s.default !== undefined && s.kind !== 'boolean') checkValue(name, s, s.default);
  }
  return spec;
}

export interface ParseOptions {
  /** the arguments (default process.argv.slice(2)) */
  args?: string[];
  /** positional arguments allowed (default false: any is an error) */
  positionals?: boolean;
}

/** Parses and checks every flag; throws a FlagError naming the flag and the rule. */
export function parseFlags<F extends FlagSpecs>(spec: F, opts: ParseOptions = {}): { values: FlagValues<F>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.kind === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}) };
  if (!('help' in options)) options.help = Object.values(spec).some((s) => s.short === 'h') ? { type: 'boolean' } : { type: 'boolean', short: 'h' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: opts.args ?? process.argv.slice(2), options, strict: true, allowPositionals: opts.positionals ?? false }) as typeof parsed;
  } catch (e) {
    throw new FlagError(parseArgsMessage(e as Error & { code?: string }, spec));
  }
  const help = parsed.values.help === true;
  const values: Record<string, unknown> = { help };
  for (const [name, s] of Object.entries(spec)) {
    const raw = parsed.values[name];
    if (s.kind === 'boolean') values[name] = raw === undefined ? (s.default ?? false) : raw;
    else if (raw === undefined) values[name] = copy(s.default);
    else {
      try {
        values[name] = convert(name, s, raw as string);
      } catch (e) {
        if (!help) throw e;
        values[name] = copy(s.default); // --help with a bad value: the help, not the error
      }
    }
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals };
}

const copy = (d: unknown) => (Array.isArray(d) ? [...d] : d);

function parseArgsMessage(e: Error & { code?: string }, spec: FlagSpecs): string {
  const m = e.message;
  const opt = /'(-{1,2}[^' ]+)/.exec(m)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${opt ?? m} (see --help)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quote(/'([^']*)'/.exec(m)?.[1] ?? '')}: this command takes only --flags (see --help)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = opt?.replace(/^-+/, '') ?? '';
      const long = name.length === 1 ? (Object.entries(spec).find(([, s]) => s.short === name)?.[0] ?? name) : name;
      if (/does not take an argument/.test(m)) return `--${long} takes no value (see --help)`;
      if (/ambiguous/.test(m)) return `--${long} needs a value; one starting with '-' is written --${long}=-VALUE`;
      return `--${long} needs a value (see --help)`;
    }
  }
  return m;
}

/** A value as echoed in an error: quoted, at most 40 characters, control characters escaped. */
function quote(raw: string): string {
  const s = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return `'${s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A number from a flag's text: a plain decimal literal that fits in a double, within the bounds. Exported for
 * values that are part of a flag (the port of --gateway host:port): `flag` is what the message names.
 */
export function parseNumber(flag: string, raw: string, rule: NumberBounds & { integer?: boolean } = {}): number {
  const what = rule.integer ? 'a whole number' : 'a number';
  if (!NUMBER.test(raw)) throw new FlagError(`${flag} must be ${what}, got ${quote(raw)}`);
  const x = Number(raw);
  if (!Number.isFinite(x)) throw new FlagError(`${flag} must be ${what}, got ${quote(raw)} (too large for a number)`);
  checkNumber(flag, x, rule, raw);
  return x;
}

function checkNumber(flag: string, x: number, rule: NumberBounds & { integer?: boolean }, raw: string): void {
  const got = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  if (rule.integer && !Number.isInteger(x)) throw new FlagError(`${flag} must be a whole number, got ${got}`);
  if (rule.min !== undefined && (rule.minExclusive ? !(x > rule.min) : !(x >= rule.min))) {
    throw new FlagError(`${flag} must be ${rule.minExclusive ? 'greater than' : 'at least'} ${fmt(rule.min)}, got ${got}`);
  }
  if (rule.max !== undefined && (rule.maxExclusive ? !(x < rule.max) : !(x <= rule.max))) {
    throw new FlagError(`${flag} must be ${rule.maxExclusive ? 'less than' : 'at most'} ${fmt(rule.max)}, got ${got}`);
  }
}

/** 1e12 rather than 1000000000000; other numbers as String() writes them. */
export function fmt(x: number): string {
  if (Math.abs(x) >= 1e6 && Number.isFinite(x)) {
    const e = x.toExponential().replace('e+', 'e');
    if (e.length < String(x).length - 2) return e;
  }
  return String(x);
}

function convert(name: string, s: FlagSpec, raw: string): unknown {
  const flag = `--${name}`;
  switch (s.kind) {
    case 'number':
    case 'integer':
      return parseNumber(flag, raw, { ...s, integer: s.kind === 'integer' });
    case 'choice':
      if (!s.choices.includes(raw))
        throw new FlagError(`${flag} must be ${s.choices.length === 2 ? s.choices.join(' or ') : `one of ${s.choices.join(', ')}`}, got ${quote(raw)}`);
      return raw;
    case 'list': {
      const items = raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (items.length === 0) throw new FlagError(`${flag} must list at least one value (comma-separated), got ${quote(raw)}`);
      return s.upper ? items.map((x) => x.toUpperCase()) : items;
    }
    case 'string':
      if (s.nonEmpty && raw.trim() === '') throw new FlagError(`${flag} must not be empty`);
      return raw;
    case 'boolean':
      return raw;
  }
}

/** A spec's default must satisfy its own rule (checked when the spec is defined). */
function checkValue(name: string, s: FlagSpec, d: unknown): void {
  if ((s.kind === 'number' || s.kind === 'integer') && typeof d === 'number')
    checkNumber(`--${name} (default)`, d, { ...s, integer: s.kind === 'integer' }, String(d));
  if (s.kind === 'choice' && !s.choices.includes(d as string)) throw new Error(`--${name}: default '${String(d)}' is not one of its choices`);
}

/** The rule of a number flag in words: "> 0 and <= 1e12", "a whole number >= 1". */
export function describeRule(s: NumberFlag | IntegerFlag): string {
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? '>' : '>='} ${fmt(s.min)}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? '<' : '<='} ${fmt(s.max)}`);
  return `${s.kind === 'integer' ? 'a whole number' : 'a number'}${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

/**
 * The options part of a usage text, from the spec: `--name ARG` then the help, with the rule of a number and
 * the choices of a choice appended, and the default unless the help already speaks of one.
 */
export function flagHelp(spec: FlagSpecs, opts: { width?: number; indent?: number; only?: string[] } = {}): string {
  const indent = ' '.repeat(opts.indent ?? 2);
  const names = opts.only ?? Object.keys(spec).filter((n) => !spec[n].hidden);
  const heads = names.map((n) => {
    const s = spec[n];
    const choices = s.kind === 'choice' && s.choices.join('|').length <= 20 ? s.choices.join('|') : undefined;
    const arg = s.kind === 'boolean' ? '' : ` ${s.arg ?? choices ?? (s.kind === 'number' || s.kind === 'integer' ? 'N' : s.kind === 'list' ? 'A,B' : 'VALUE')}`;
    return `${s.short ? `-${s.short}, ` : ''}--${n}${arg}`;
  });
  const width = opts.width ?? Math.min(24, Math.max(...heads.map((h) => h.length)) + 2);
  const lines: string[] = [];
  names.forEach((n, i) => {
    const s = spec[n];
    const text = (s.help ?? '').split('\n');
    const extra: string[] = [];
    if (s.kind === 'number' || s.kind === 'integer') extra.push(describeRule(s));
    if (s.kind === 'choice' && !s.choices.every((c) => text.join(' ').includes(c))) extra.push(`one of ${s.choices.join(', ')}`);
    if (s.default !== undefined && s.kind !== 'boolean' && !/default/.test(s.help ?? ''))
      extra.push(
        `default ${Array.isArray(s.default) ? s.default.join(',') : s.kind === 'number' || s.kind === 'integer' ? fmt(s.default as number) : String(s.default)}`,
      );
    const last = text[text.length - 1];
    if (extra.length)
      text[text.length - 1] = last.endsWith(')') ? `${last.slice(0, -1)}; ${extra.join('; ')})` : `${last}${last ? ' ' : ''}(${extra.join('; ')})`;
    const head = heads[i];
    const pad = ' '.repeat(indent.length + width);
    if (head.length > width - 2) lines.push(`${indent}${head}`, ...text.map((t) => `${pad}${t}`));
    else lines.push(`${indent}${head.padEnd(width)}${text[0]}`, ...text.slice(1).map((t) => `${pad}${t}`));
  });
  lines.push(`${indent}${'-h, --help'.padEnd(Math.max(width, 12))}this text`);
  return lines.join('\n');
}

/** Where JSON text stops being JSON: a 0-based offset, or undefined when it parses (or nests too deep to tell). */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const n = text.length;
  class Stop {
    constructor(readonly at: number) {}
  }
  const stop = (): never => {
    throw new Stop(i);
  };
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = () => {
    i++; // the opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) stop();
      if (c === 0x5c) {
        i++;
        if (i < n && '"\\/bfnrt'.includes(text[i])) i++;
        else if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else stop();
      } else i++;
    }
    stop();
  };
  const num = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const value = (depth: number): void => {
    if (depth > 2000) throw new Stop(-1);
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') stop();
          str();
          ws();
          if (text[i] !== ':') stop();
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) return void i++;
        stop();
      }
    }
    if (c === '"') return str();
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) return void (i += lit.length);
    num.lastIndex = i;
    if (num.test(text)) return void (i = num.lastIndex);
    stop();
  };
  try {
    value(0);
    ws();
    if (i < n) stop();
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.at < 0 ? undefined : e.at;
    throw e;
  }
}

/** "line L, column C" of an offset (1-based; columns count UTF-16 units). */
export function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      start = k + 1;
    }
  }
  return `line ${line}, column ${offset - start + 1}`;
}

/** Where and how text is not JSON, in words, without quoting any of it. */
function whereNotJson(text: string): string {
  if (text.trim() === '') return 'it is empty';
  const at = jsonErrorOffset(text);
  if (at === undefined) return 'it does not parse as JSON';
  return at >= text.length ? `it ends too early (${lineColumn(text, at)})` : `unexpected character at ${lineColumn(text, at)}`;
}

/** The largest JSON file a flag reads (a config, not data). */
export const MAX_JSON_FILE_BYTES = 10 * 1024 * 1024;

/**
 * A JSON file named by a flag (--risk, --config, --resume). Errors name the flag, the file and where the text
 * stops being JSON (line and column) but never echo the file's contents.
 */
export function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new FlagError(`${flag} ${file} is not a file`);
    if (st.size > MAX_JSON_FILE_BYTES) throw new FlagError(`${flag} ${file} is ${st.size} bytes: not a JSON config (at most ${MAX_JSON_FILE_BYTES} bytes)`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof FlagError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FlagError(
      `${flag} ${file} cannot be read (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')})`,
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch {
    throw new FlagError(`${flag} ${file} is not valid JSON: ${whereNotJson(text)}`);
  }
}

/**
 * JSON given on the command line (--params, --grid): the message names the flag and where it stops being JSON.
 * The text is the user's own typing, so the message may show it (shortened).
 */
export function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FlagError(`${flag} is not valid JSON (${whereNotJson(text)}): ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
  }
}

/** A JSON object given on the command line; `what` says what it holds. */
export function parseJsonObjectFlag(flag: string, text: string): Record<string, unknown> {
  const v = parseJsonFlag(flag, text);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new FlagError(`${flag} must be a JSON object, got ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
  return v as Record<string, unknown>;
}

/**
 * An error about a JSON file's shape (from parseRiskConfig, parseThresholds) without the file's values in it:
 * ", got <value>" is cut and long quoted keys are shortened.
 */
export function withoutFileValues(message: string): string {
  return message.replace(/,? got [\s\S]*$/, '').replace(/'([^']{41,})'/g, (_m, k: string) => `'${k.slice(0, 40)}…'`);
}

/** An engine parser run on a flag's value: its ConfigError is said in the flag's terms (`--commission free: rule`). */
export function fromFlag<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (e) {
    if (e instanceof ConfigError) throw new FlagError(`${flag} ${value}: ${e.rule}`);
    throw e;
  }
}
