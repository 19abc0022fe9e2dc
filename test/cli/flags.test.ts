// The typed flag parser (scripts/lib/flags.ts) and every CLI's use of it: a bad or absurd flag is refused
// at once, naming the flag and the rule, before anything is read, connected or written; a flag that names a
// JSON file never has the file's contents echoed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defineFlags,
  FlagError,
  flagHelp,
  fmt,
  fromFlag,
  jsonErrorOffset,
  parseFlags,
  parseJsonFlag,
  parseNumber,
  readJsonFile,
  withoutFileValues,
} from '../../scripts/lib/flags.ts';
import { RUN_FLAGS, riskFlag, sizingFlags } from '../../scripts/lib/run-options.ts';
import { ConfigError } from '../../engine/core/config-error.ts';
import { parseCommission, parseSlippage } from '../../engine/exec/costs.ts';
import { parseSizing } from '../../engine/portfolio/sizing.ts';
import { expandGrid, parseWalkForward } from '../../engine/research/grid.ts';
import { numRuns } from '../setup-fast-check.ts';
import { ROOT } from './run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-flags-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SPEC = defineFlags({
  name: { kind: 'string', default: 'x', help: 'a name' },
  label: { kind: 'string', help: 'no default' },
  cash: { kind: 'number', default: 100_000, min: 0, minExclusive: true, max: 1e12, help: 'starting cash' },
  rate: { kind: 'number', min: -0.1, max: 1, maxExclusive: true, help: 'a rate' },
  quantity: { kind: 'integer', min: 1, max: 1e9, short: 'q', help: 'shares' },
  paper: { kind: 'boolean', help: 'a paper account' },
  interval: { kind: 'choice', choices: ['1m', '5m', '1d'], default: '1d', help: 'bar interval' },
  side: { kind: 'choice', choices: ['halt', 'warn'], help: 'two choices' },
  symbols: { kind: 'list', upper: true, help: 'symbols' },
  tags: { kind: 'list', default: ['a', 'b'], help: 'tags' },
});

const parse = (...args: string[]) => parseFlags(SPEC, { args }).values;
const refuses = (args: string[], message: string | RegExp) => {
  let error: unknown;
  try {
    parse(...args);
  } catch (e) {
    error = e;
  }
  expect(error, `${args.join(' ')} must be refused`).toBeInstanceOf(FlagError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
};

describe('parseFlags', () => {
  it('gives defaults, typed values, and undefined for absent flags without one', () => {
    const v = parse();
    expect(v).toEqual({
      help: false,
      name: 'x',
      label: undefined,
      cash: 100_000,
      rate: undefined,
      quantity: undefined,
      paper: false,
      interval: '1d',
      side: undefined,
      symbols: undefined,
      tags: ['a', 'b'],
    });
    // the default list is a copy: a caller changing it does not change the next parse
    v.tags.push('c');
    expect(parse().tags).toEqual(['a', 'b']);
  });

  it('parses every kind', () => {
    const v = parse(
      '--name',
      'y',
      '--cash',
      '2.5e3',
      '--rate=-0.05',
      '-q',
      '1e3',
      '--paper',
      '--interval',
      '5m',
      '--side',
      'warn',
      '--symbols',
      ' spy, aapl ,,',
      '--tags',
      'x',
    );
    expect(v).toMatchObject({
      name: 'y',
      cash: 2500,
      rate: -0.05,
      quantity: 1000,
      paper: true,
      interval: '5m',
      side: 'warn',
      symbols: ['SPY', 'AAPL'],
      tags: ['x'],
    });
    expect(typeof v.cash).toBe('number');
    expect(parse('--help').help).toBe(true);
    expect(parse('-h').help).toBe(true);
    expect(parse('--cash', 'abc', '--help')).toMatchObject({ help: true, cash: 100_000 });
  });

  it('refuses what is not a number, naming the flag', () => {
    for (const raw of ['abc', '', ' ', ' 5', '5 ', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '0o7', '1_000', '1e', '.', '+', '5abc', '1,5']) {
      refuses([`--cash=${raw}`], `--cash must be a number, got '${raw}'`);
    }
    refuses(['--cash', '1e400'], /^--cash must be a number, got '1e400' \(too large for a number\)$/);
    refuses(['--quantity', 'abc'], "--quantity must be a whole number, got 'abc'");
  });

  it('refuses numbers out of bounds, naming the flag and the bound', () => {
    refuses(['--cash', '1e20'], '--cash must be at most 1e12, got 1e20');
    refuses(['--cash', '0'], '--cash must be greater than 0, got 0');
    refuses(['--cash=-5'], '--cash must be greater than 0, got -5');
    refuses(['--rate', '1'], '--rate must be less than 1, got 1');
    refuses(['--rate=-0.2'], '--rate must be at least -0.1, got -0.2');
    refuses(['--quantity', '2.5'], '--quantity must be a whole number, got 2.5');
    refuses(['--quantity', '0'], '--quantity must be at least 1, got 0');
    refuses(['--quantity', '1e300'], '--quantity must be at most 1e9, got 1e300');
    expect(parse('--cash', '1e12').cash).toBe(1e12);
    expect(parse('--quantity', '1000000000').quantity).toBe(1e9);
    expect(parse('--rate=-0.1').rate).toBe(-0.1);
  });

  it('refuses a value outside a choice, an empty list, unknown options and misplaced values', () => {
    refuses(['--interval', '7m'], "--interval must be one of 1m, 5m, 1d, got '7m'");
    refuses(['--side', 'stop'], "--side must be halt or warn, got 'stop'");
    refuses(['--symbols', ' , '], "--symbols must list at least one value (comma-separated), got ' , '");
    refuses(['--foo'], 'unknown option --foo (see --help)');
    refuses(['--foo=1'], 'unknown option --foo (see --help)');
    refuses(['-x'], 'unknown option -x (see --help)');
    refuses(['--cash'], '--cash needs a value (see --help)');
    refuses(['--cash', '-5'], "--cash needs a value; one starting with '-' is written --cash=-VALUE");
    refuses(['--paper=yes'], '--paper takes no value (see --help)');
    refuses(['stray'], /^unexpected argument 'stray'/);
    expect(parseFlags(SPEC, { args: ['a', '--paper', 'b'], positionals: true }).positionals).toEqual(['a', 'b']);
  });

  it('echoes a long or odd value shortened and escaped', () => {
    refuses(['--cash', `${'9'.repeat(60)}x`], `--cash must be a number, got '${'9'.repeat(40)}…'`);
    refuses(['--interval', 'a\nb'], "--interval must be one of 1m, 5m, 1d, got 'a\\u000ab'");
  });

  it('refuses a spec whose default breaks its own rule', () => {
    expect(() => defineFlags({ n: { kind: 'integer', default: 0, min: 1 } })).toThrow(/--n \(default\) must be at least 1/);
    expect(() => defineFlags({ c: { kind: 'choice', choices: ['a'], default: 'b' } })).toThrow(/not one of its choices/);
  });

  it('property: a finite in-range number printed with String() parses back to itself; anything outside is refused naming the flag', () => {
    const min = -0.1;
    const max = 1e12;
    const spec = defineFlags({ x: { kind: 'number', min, max } });
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        const raw = String(x);
        if (x >= min && x <= max) {
          const got = parseFlags(spec, { args: [`--x=${raw}`] }).values.x;
          expect(got === x).toBe(true);
        } else {
          expect(() => parseFlags(spec, { args: [`--x=${raw}`] })).toThrow(/^--x must be /);
        }
      }),
      { numRuns: numRuns(2000) },
    );
  });

  it('property: whole numbers in range parse, fractions and out-of-range ones are refused', () => {
    const spec = defineFlags({ n: { kind: 'integer', min: 1, max: 1e9 } });
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1e10, max: 1e10 }), fc.double({ min: -1e10, max: 1e10, noNaN: true })), (x) => {
        const ok = Number.isInteger(x) && x >= 1 && x <= 1e9;
        const run = () => parseFlags(spec, { args: [`--n=${String(x)}`] }).values.n;
        if (ok) expect(run()).toBe(x);
        else expect(run).toThrow(/^--n must be (a whole number|at least 1|at most 1e9), got /);
      }),
      { numRuns: numRuns(2000) },
    );
  });

  it('property: any text either is refused naming the flag or is a plain decimal literal whose value is in range', () => {
    const spec = defineFlags({ x: { kind: 'number', min: 0, max: 100 } });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[-+0-9.eExXa-f_ ]{0,8}$/)), (raw) => {
        let v: number | undefined;
        try {
          v = parseFlags(spec, { args: [`--x=${raw}`] }).values.x;
        } catch (e) {
          expect(e).toBeInstanceOf(FlagError);
          expect((e as Error).message).toMatch(/^--x must be /);
          return;
        }
        expect(raw).toMatch(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/);
        expect(v).toBe(Number(raw));
        expect(v! >= 0 && v! <= 100).toBe(true);
      }),
      { numRuns: numRuns(2000) },
    );
  });
});

describe('help text from the spec', () => {
  it('lists every visible flag with its rule and default', () => {
    const help = flagHelp(SPEC);
    for (const name of Object.keys(SPEC)) expect(help).toContain(`--${name}`);
    expect(help).toMatch(/--cash N +starting cash \(a number > 0 and <= 1e12; default 100000\)/);
    expect(help).toMatch(/-q, --quantity N +shares \(a whole number >= 1 and <= 1e9\)/);
    expect(help).toMatch(/--rate N +a rate \(a number >= -0\.1 and < 1\)/);
    expect(help).toMatch(/--interval 1m\|5m\|1d +bar interval \(one of 1m, 5m, 1d; default 1d\)/);
    expect(help).toMatch(/-h, --help/);
  });

  it("the shared run flags' help states the bounds the parser enforces", () => {
    const help = flagHelp(RUN_FLAGS);
    expect(help).toMatch(/--cash N .*> 0 and <= 1e12/);
    expect(help).toMatch(/--quantity N .*>= 1 and <= 1e9/);
    expect(help).toMatch(/--percent P .*> 0 and <= 100/);
    expect(help).toMatch(/--target-vol F .*> 0 and <= 5/);
    expect(help).toMatch(/--lookback N .*>= 2 and <= 10000/);
    expect(fmt(1e12)).toBe('1e12');
    expect(fmt(2147483647)).toBe('2147483647');
    expect(fmt(86_400)).toBe('86400');
  });

  it('sizing flags become a Sizing with the typed numbers', () => {
    const v = parseFlags(RUN_FLAGS, { args: ['--sizing', 'fixed', '--quantity', '10'] }).values;
    expect(sizingFlags(v)).toEqual({ kind: 'fixed', quantity: 10 });
    const p = parseFlags(RUN_FLAGS, { args: ['--sizing', 'percent', '--percent', '2.5'] }).values;
    expect(sizingFlags(p)).toEqual({ kind: 'percent', percent: 2.5 });
    expect(() => parseFlags(RUN_FLAGS, { args: ['--percent', '150'] })).toThrow('--percent must be at most 100, got 150');
    expect(() => parseFlags(RUN_FLAGS, { args: ['--sizing', 'half'] })).toThrow(
      "--sizing must be one of equal-weight, all-in, fixed, percent, vol-target, got 'half'",
    );
  });

  it('parseNumber checks a number inside another flag (the port of --gateway)', () => {
    expect(parseNumber('--gateway port', '4002', { integer: true, min: 1, max: 65_535 })).toBe(4002);
    expect(() => parseNumber('--gateway port', '70000', { integer: true, min: 1, max: 65_535 })).toThrow('--gateway port must be at most 65535, got 70000');
  });
});

describe('engine parsers speak of the value, the CLI of its flag', () => {
  const engineErrors: [string, () => unknown][] = [
    ['commission', () => parseCommission('free')],
    ['commission rate', () => parseCommission('per-share:x')],
    ['slippage', () => parseSlippage('bps')],
    ['sizing', () => parseSizing('fixed', {})],
    ['sizing kind', () => parseSizing('kelly', {})],
    ['walk-forward', () => parseWalkForward('train=5')],
    ['walk-forward span', () => parseWalkForward('train=5,test=1y')],
    ['grid', () => expandGrid({ fast: [] })],
  ];
  for (const [name, run] of engineErrors) {
    it(`${name}: a ConfigError naming no CLI flag`, () => {
      let caught: unknown;
      try {
        run();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as Error).message).not.toMatch(/--/);
    });
  }

  it("fromFlag says the rule in the flag's terms, and lets other errors through", () => {
    expect(() => fromFlag('--commission', 'free', parseCommission)).toThrow(
      new FlagError('--commission free: unknown model; use none, ibkr-fixed, ibkr-tiered, per-share:RATE[:MIN] or percent:PCT[:MIN]'),
    );
    expect(() => fromFlag('--walk-forward', 'train=5,test=1y', parseWalkForward)).toThrow(
      new FlagError("--walk-forward train=5,test=1y: train must look like 5y, 18m or 90d, got '5'"),
    );
    expect(() =>
      fromFlag('--x', 'v', () => {
        throw new RangeError('other');
      }),
    ).toThrow(RangeError);
    expect(fromFlag('--slippage', 'bps:2', parseSlippage)).toEqual({ model: 'bps', bps: 2 });
  });
});

describe('JSON files and JSON flags', () => {
  const SECRET = 'hunter2-SECRET-do-not-print';

  it('a file that is not JSON: the flag, the file and the line and column, none of its text', () => {
    const f = path.join(tmp, 'notes.txt');
    writeFileSync(f, `{\n  "limits": {\n    "maxLeverage": ${SECRET}\n  }\n}\n`);
    let message = '';
    try {
      readJsonFile('--risk', f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(`--risk ${f} is not valid JSON: unexpected character at line 3, column 20`);
    expect(message).not.toContain('hunter2');
    const cut = path.join(tmp, 'cut.json');
    writeFileSync(cut, '{"limits": {"maxLeverage": 1');
    expect(() => readJsonFile('--risk', cut)).toThrow(`--risk ${cut} is not valid JSON: it ends too early (line 1, column 29)`);
    const empty = path.join(tmp, 'empty.json');
    writeFileSync(empty, ' \n');
    expect(() => readJsonFile('--risk', empty)).toThrow(`--risk ${empty} is not valid JSON: it is empty`);
    expect(() => readJsonFile('--risk', path.join(tmp, 'nope.json'))).toThrow(/cannot be read \(no such file\)/);
    expect(() => readJsonFile('--risk', tmp)).toThrow(`--risk ${tmp} is not a file`);
    const bom = path.join(tmp, 'bom.json');
    writeFileSync(bom, '\ufeff{"limits": {}}');
    expect(readJsonFile('--risk', bom)).toEqual({ limits: {} });
  });

  it('a JSON file of the wrong shape: the rule, not the values', () => {
    const f = path.join(tmp, 'shape.json');
    writeFileSync(f, JSON.stringify({ limits: { maxLeverage: { token: SECRET, more: [SECRET, SECRET] } } }));
    expect(() => riskFlag(f)).toThrow(FlagError);
    expect(() => riskFlag(f)).toThrow(`--risk ${f}: limits.maxLeverage must be a number > 0`);
    const arr = path.join(tmp, 'array.json');
    writeFileSync(arr, JSON.stringify([SECRET]));
    expect(() => riskFlag(arr)).toThrow(`--risk ${arr} must hold a JSON object {"limits": {...}, "breaker": {...}}`);
    expect(() => riskFlag('nonsense')).toThrow("--risk must be research, seed or a JSON file, got 'nonsense'");
    expect(riskFlag('seed').limits).toBeDefined();
    expect(withoutFileValues(`x: limits.a must be a number > 0, got ${JSON.stringify({ SECRET })}`)).toBe('x: limits.a must be a number > 0');
  });

  it('--params style JSON: names the flag and the position', () => {
    expect(() => parseJsonFlag('--params', '{"fast": 5,}')).toThrow('--params is not valid JSON (unexpected character at line 1, column 12): {"fast": 5,}');
  });

  it('property: the error position finder agrees with JSON.parse on what is JSON', () => {
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', ' ', '\n', '\\', '0', '-', '{', '['), fc.boolean())
      .map(([j, at, c, cut]) => {
        const k = at % (j.length + 1);
        return cut ? j.slice(0, k) + c + j.slice(k + 1) : j.slice(0, k) + c + j.slice(k);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated), (text) => {
        let ok = true;
        try {
          JSON.parse(text);
        } catch {
          ok = false;
        }
        const at = jsonErrorOffset(text);
        expect(at === undefined).toBe(ok);
        if (at !== undefined) {
          expect(at).toBeGreaterThanOrEqual(0);
          expect(at).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: numRuns(3000) },
    );
  });
});

// ---- the CLIs: spawned as npm run does, with a time bound ----

const BOUND_MS = 20_000;

function cli(script: string, args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BOUND_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** A refusal: exit 1 in time (not killed), the message on stderr, no stack trace. */
function expectRefused(r: ReturnType<typeof cli>, message: RegExp) {
  expect(r.signal, `killed after ${r.ms} ms: the CLI did not end on its own`).toBeNull();
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('every CLI refuses a bad flag at once, naming it, writing nothing', () => {
  const missingData = path.join(tmp, 'no-data-here');

  it('bench and notebooks print their help (bench crashed with a stack; notebooks took --help for a file)', () => {
    for (const script of ['bench.ts', 'notebooks.ts']) {
      const r = cli(script, ['--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${script.replace('.ts', '')}`));
    }
    expectRefused(cli('notebooks.ts', [path.join(tmp, 'no-such.ipynb')]), /no-such\.ipynb is not a notebook file \(\.ipynb\)/);
    expectRefused(
      cli('bench.ts', ['--only', 'everything']),
      /--only must be one of ml, live, import, big, report, ops, w1, memory, options, queue, got 'everything'/,
    );
  });

  it('sweep --cash abc', () => {
    const db = path.join(tmp, 'sweep', 'sweep.duckdb');
    const r = cli('sweep.ts', ['--grid', '{"fast":[5],"slow":[50]}', '--cash', 'abc', '--data', missingData, '--db', db]);
    expectRefused(r, /--cash must be a number, got 'abc'/);
    expect(r.stderr).not.toMatch(/NaN/);
    expect(existsSync(path.dirname(db))).toBe(false);
  });

  it('live --cash abc', () => {
    const out = path.join(tmp, 'live-cash');
    const r = cli('live.ts', ['--paper', '--http', 'off', '--gateway', '127.0.0.1:1', '--cash', 'abc', '--out', out]);
    expectRefused(r, /--cash must be a number, got 'abc'/);
    expect(r.stderr).not.toMatch(/NaN/);
    expect(existsSync(out)).toBe(false);
  });

  it('live --client-id abc ends within the bound', () => {
    const out = path.join(tmp, 'live-client');
    const r = cli('live.ts', ['--paper', '--http', 'off', '--gateway', '127.0.0.1:1', '--client-id', 'abc', '--out', out]);
    expectRefused(r, /--client-id must be a whole number, got 'abc'/);
    expect(existsSync(out)).toBe(false);
  });

  it('live --client-id 1e10 and --gateway with a port out of range', () => {
    const out = path.join(tmp, 'live-range');
    expectRefused(cli('live.ts', ['--paper', '--http', 'off', '--client-id', '1e10', '--out', out]), /--client-id must be at most 2147483647, got 1e10/);
    expectRefused(
      cli('live.ts', ['--paper', '--http', 'off', '--gateway', '127.0.0.1:99999', '--out', out]),
      /--gateway port must be at most 65535, got 99999/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('backtest --cash 1e20: the bound, in time', () => {
    const out = path.join(tmp, 'bt-cash');
    const r = cli('backtest.ts', ['--cash', '1e20', '--data', missingData, '--out', out]);
    expectRefused(r, /--cash must be at most 1e12, got 1e20/);
    expect(existsSync(out)).toBe(false);
  });

  it('backtest --quantity 1e300 --sizing fixed', () => {
    const out = path.join(tmp, 'bt-qty');
    const r = cli('backtest.ts', ['--sizing', 'fixed', '--quantity', '1e300', '--data', missingData, '--out', out]);
    expectRefused(r, /--quantity must be at most 1e9, got 1e300/);
    expect(existsSync(out)).toBe(false);
  });

  it('backtest --risk /etc/passwd (and a file of secrets): not valid JSON, nothing of the file printed', () => {
    const secrets = path.join(tmp, 'secrets.txt');
    writeFileSync(secrets, 'user: alice\npassword: hunter2-SECRET\n');
    const files = [secrets, ...(existsSync('/etc/passwd') ? ['/etc/passwd'] : [])];
    for (const f of files) {
      const out = path.join(tmp, 'bt-risk');
      const r = cli('backtest.ts', ['--risk', f, '--data', missingData, '--out', out]);
      expectRefused(r, new RegExp(`--risk ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON: unexpected character at line 1, column 1`));
      const text = readFileSync(f, 'utf8');
      expect(r.stderr).not.toContain('root:');
      expect(r.stderr).not.toContain('hunter2');
      for (const line of text.split('\n').filter((l) => l.trim().length >= 4)) expect(r.stderr).not.toContain(line);
      for (const word of text.split(/[\s:]+/).filter((w) => w.length >= 5)) expect(r.stderr).not.toContain(word);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('backtest --risk with a JSON file of the wrong shape: the rule, not the values', () => {
    const f = path.join(tmp, 'risk-shape.json');
    writeFileSync(f, JSON.stringify({ limits: { maxLeverage: 'hunter2-SECRET' } }));
    const r = cli('backtest.ts', ['--risk', f, '--data', missingData, '--out', path.join(tmp, 'bt-shape')]);
    expectRefused(r, /limits\.maxLeverage must be a number > 0/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('live --risk: a file that is not JSON is not echoed', () => {
    const secrets = path.join(tmp, 'live-secrets.txt');
    writeFileSync(secrets, 'hunter2-SECRET\n');
    const r = cli('live.ts', ['--paper', '--risk', secrets, '--out', path.join(tmp, 'live-risk')]);
    expectRefused(r, /--risk .* is not valid JSON: unexpected character at line 1, column 1/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('promote --percent 150 and --config of a file that is not JSON', () => {
    const outDir = path.join(tmp, 'promoted');
    expectRefused(cli('promote.ts', ['--percent', '150', '--data', missingData, '--out-dir', outDir]), /--percent must be at most 100, got 150/);
    const secrets = path.join(tmp, 'thresholds.txt');
    writeFileSync(secrets, 'minSharpe = hunter2-SECRET\n');
    const r = cli('promote.ts', ['--config', secrets, '--data', missingData, '--out-dir', outDir]);
    expectRefused(r, /--config .* is not valid JSON: unexpected character at line 1, column 1/);
    expect(r.stderr).not.toContain('hunter2');
    expect(existsSync(outDir)).toBe(false);
  });

  it('train --horizon 2.5', () => {
    const out = path.join(tmp, 'model');
    expectRefused(cli('train.ts', ['--horizon', '2.5', '--data', missingData, '--out', out]), /--horizon must be a whole number, got 2\.5/);
    expect(existsSync(out)).toBe(false);
  });

  it('journal --limit abc (with the usage)', () => {
    const r = cli('journal.ts', [path.join(tmp, 'j.duckdb'), 'logs', '--limit', 'abc']);
    expectRefused(r, /--limit must be a whole number, got 'abc'/);
    expect(r.stderr).toMatch(/usage: npm run journal/);
    expect(existsSync(path.join(tmp, 'j.duckdb'))).toBe(false);
  });

  it('ib --client-id abc (before connecting)', () => {
    const db = path.join(tmp, 'ib.duckdb');
    expectRefused(cli('ib.ts', ['status', '--gateway', '127.0.0.1:1', '--client-id', 'abc', '--db', db]), /--client-id must be a whole number, got 'abc'/);
    expect(existsSync(db)).toBe(false);
  });

  it('ib-sim --cash 1e20, --port 70000 and --speed 0', () => {
    expectRefused(cli('ib-sim.ts', ['--cash', '1e20', '--data', missingData]), /--cash must be at most 1e12, got 1e20/);
    expectRefused(cli('ib-sim.ts', ['--port', '70000', '--data', missingData]), /--port must be at most 65535, got 70000/);
    expectRefused(cli('ib-sim.ts', ['--speed', '0', '--data', missingData]), /--speed must be greater than 0, got 0/);
  });

  it('an unknown option, in every migrated CLI', () => {
    mkdirSync(path.join(tmp, 'unknown'), { recursive: true });
    for (const script of ['backtest.ts', 'sweep.ts', 'live.ts', 'promote.ts', 'train.ts', 'ib-sim.ts', 'ib.ts']) {
      expectRefused(cli(script, ['--frobnicate', '1']), /unknown option --frobnicate \(see --help\)/);
    }
  });
});
