// The registry is built from the definitions: names, params, sources, models and the --help text.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSlots, DEFAULT_PORTFOLIO, modelOf, STRATEGIES, strategyHelp, strategyNames, strategySources } from '../../strategies/index.ts';
import { ROOT } from '../cli/run-cli.ts';

describe('the strategy registry', () => {
  it('holds every built-in strategy under its name', () => {
    expect(strategyNames()).toEqual([
      'sma-cross',
      'rsi-reversion',
      'donchian-breakout',
      'ml-signal',
      'futures-trend',
      'covered-call',
      'iron-condor',
      'portfolio',
    ]);
    for (const [name, def] of Object.entries(STRATEGIES)) expect(def.name).toBe(name);
  });

  it('--help lists every strategy with each param: type, bounds or choices, default and description', () => {
    const help = strategyHelp();
    expect(help).toContain('  sma-cross            long-only simple moving average crossover of the close');
    expect(help).toContain('    fast         int >= 1, default 10: fast SMA length in bars');
    expect(help).toContain('    lower        number 0..100, default 30: buy below this RSI');
    expect(help).toContain('    model        string, default "models/gbt-daily": model folder (card.json + .onnx), relative to the repository root');
    for (const def of Object.values(STRATEGIES)) {
      expect(help).toContain(`  ${def.name.padEnd(20)} ${def.description}`);
      for (const [k, spec] of Object.entries(def.params)) {
        const line = help.split('\n').find((l) => l.startsWith(`    ${k.padEnd(12)} ${spec.type}`) && l.endsWith(`: ${spec.description}`));
        expect(line, `${def.name}.${k}`).toBeDefined();
        expect(line).toContain(`default ${JSON.stringify(spec.default)}`);
        if ('min' in spec && spec.min !== undefined) expect(line).toContain(String(spec.min));
        if ('max' in spec && spec.max !== undefined) expect(line).toContain(String(spec.max));
      }
    }
    expect(help).toContain('  portfolio            several strategies, each trading its own sleeve of the capital');
    expect(help).toContain(DEFAULT_PORTFOLIO.map((m) => `${m.strategy} ${m.weight}`).join(', '));
  });

  it("a strategy's source is the file its definition names, not one derived from its name", () => {
    for (const def of Object.values(STRATEGIES)) {
      const [file] = strategySources(def.name, {});
      expect(existsSync(file)).toBe(true);
      expect(path.dirname(file)).toBe(path.join(ROOT, 'strategies'));
    }
    expect(strategySources('sma-cross', {})).toEqual([path.join(ROOT, 'strategies/sma-cross.ts')]);
    expect(strategySources('portfolio', {})).toEqual(
      ['index', 'sma-cross', 'donchian-breakout', 'rsi-reversion'].map((f) => path.join(ROOT, `strategies/${f}.ts`)),
    );
  });

  it('the model a run trades on is the one its definition declares', () => {
    expect(modelOf('sma-cross', {})).toBeUndefined();
    expect(modelOf('portfolio', {})).toBeUndefined();
    expect(modelOf('ml-signal', {})).toBe('models/gbt-daily');
    expect(modelOf('ml-signal', { model: 'models/other' })).toBe('models/other');
    expect(strategySources('ml-signal', {})).toEqual([path.join(ROOT, 'strategies/ml-signal.ts'), path.join(ROOT, 'models/gbt-daily/card.json')]);
    const members = (a: string, b: string) => ({
      members: [
        { strategy: 'ml-signal', params: { model: a }, weight: 1 },
        { strategy: 'ml-signal', params: { model: b }, weight: 1 },
        { strategy: 'sma-cross', weight: 1 },
      ],
    });
    expect(modelOf('portfolio', members('models/x', 'models/x'))).toBe('models/x');
    expect(() => modelOf('portfolio', members('models/x', 'models/y'))).toThrow('portfolio: members trade on different models (models/x, models/y)');
    expect(() => modelOf('ml-signal', { enter: 2 })).toThrow("ml-signal: param 'enter' must be <= 1, got 2");
  });

  it('builds slots from raw params, validated against the schema', () => {
    expect(buildSlots('sma-cross', { fast: 5 }, ['A']).map((s) => s.name)).toEqual(['sma-cross']);
    expect(() => buildSlots('sma-cross', { fast: 40 }, ['A'])).toThrow(
      'sma-cross: invalid params {"fast":40,"slow":30}: fast (40) must be less than slow (30)',
    );
    expect(() => buildSlots('sma-cross', { fats: 5 }, ['A'])).toThrow("sma-cross: unknown param 'fats'; its params are fast, slow");
    expect(() => buildSlots('nope', {}, ['A'])).toThrow(
      "unknown strategy 'nope'; available: sma-cross, rsi-reversion, donchian-breakout, ml-signal, futures-trend, covered-call, iron-condor, portfolio",
    );
  });
});
