// One set of run defaults: backtest, sweep, promote and paper live parse to the same commission, slippage,
// sizing and risk when no flag names them (the real flag specs of the scripts, imported without running them).
import { describe, expect, it } from 'vitest';
import { RESEARCH_RISK, SEED_RISK } from '../../engine/risk/limits.ts';
import { defaultRunSettings, RUN_DEFAULTS } from '../../engine/run/defaults.ts';
import { runSettings } from '../../engine/report/run-settings.ts';
import { FLAGS as BACKTEST_FLAGS } from '../../scripts/backtest.ts';
import { FLAGS as LIVE_FLAGS, liveSettings } from '../../scripts/live.ts';
import { FLAGS as PROMOTE_FLAGS } from '../../scripts/promote.ts';
import { FLAGS as SWEEP_FLAGS } from '../../scripts/sweep.ts';
import { FlagError, parseFlags } from '../../scripts/lib/flags.ts';
import { runSettingsFlags, sizingRiskWarning } from '../../scripts/lib/run-options.ts';

const backtest = (args: string[] = []) => runSettingsFlags(parseFlags(BACKTEST_FLAGS, { args }).values);
const sweep = (args: string[] = []) => runSettingsFlags(parseFlags(SWEEP_FLAGS, { args }).values);
const promote = (args: string[] = []) => runSettingsFlags(parseFlags(PROMOTE_FLAGS, { args }).values);
const live = (args: string[] = ['--paper']) => liveSettings(parseFlags(LIVE_FLAGS, { args }).values);

describe('run defaults', () => {
  it('are the decided ones: ibkr-fixed, no slippage, equal weight, research', () => {
    expect(RUN_DEFAULTS).toEqual({ commission: 'ibkr-fixed', slippage: 'none', sizing: 'equal-weight', risk: 'research' });
    expect(defaultRunSettings()).toEqual({
      commission: { model: 'ibkr-fixed' },
      slippage: { model: 'none' },
      sizing: { kind: 'equal-weight' },
      risk: RESEARCH_RISK,
    });
  });

  it('backtest, sweep, promote and paper live parse to the same config when no flag names them', () => {
    const expected = defaultRunSettings();
    expect(backtest()).toEqual(expected);
    expect(sweep()).toEqual(expected);
    expect(promote()).toEqual(expected);
    expect(live()).toEqual(expected);
  });

  it('and the same flags give the same config everywhere', () => {
    const args = ['--commission', 'per-share:0.01:1', '--sizing', 'percent', '--percent', '5', '--risk', 'seed'];
    const expected = {
      commission: { model: 'per-share', perShare: 0.01, min: 1 },
      slippage: { model: 'none' },
      sizing: { kind: 'percent', percent: 5 },
      risk: SEED_RISK,
    };
    for (const got of [backtest(args), sweep(args), promote(args), live(['--paper', ...args])]) expect(got).toEqual(expected);
  });

  it('a live account must name its risk profile; paper defaults like a backtest', () => {
    expect(() => live([])).toThrow(FlagError);
    expect(() => live([])).toThrow(/--risk is required for a live account \(no --paper\): the default profile research has no loss limits/);
    expect(live(['--risk', 'seed']).risk).toEqual(SEED_RISK);
    expect(live(['--risk', 'research']).risk).toEqual(RESEARCH_RISK);
    expect(live(['--paper']).risk.name).toBe('research');
  });

  it('all-in stays available to backtests on request', () => {
    expect(backtest(['--sizing', 'all-in', '--commission', 'none']).sizing).toEqual({ kind: 'all-in' });
  });

  it('the effective config in words names the sizing, costs and risk profile', () => {
    const rows = Object.fromEntries(
      runSettings({
        strategy: 'sma-cross',
        params: { fast: 10, slow: 30 },
        symbols: ['AAPL', 'IBM', 'SPY'],
        interval: '1d',
        cash: 100_000,
        ...defaultRunSettings(),
        commission: { model: 'per-share', perShare: 0.005, min: 0 },
        slippage: { model: 'bps', bps: 2 },
      }),
    );
    expect(rows).toEqual({
      strategy: 'sma-cross {"fast":10,"slow":30}',
      symbols: 'AAPL,IBM,SPY',
      interval: '1d',
      dates: 'first bar .. last bar',
      cash: '100,000.00',
      sizing: 'equal-weight (1/3 of equity per entry)',
      commission: 'per-share:0.005',
      slippage: 'bps:2',
      risk: 'research (maxLeverage 1)',
    });
  });

  it('warns when the sizing asks for more than the risk profile lets a position hold', () => {
    expect(sizingRiskWarning({ kind: 'equal-weight' }, 3, RESEARCH_RISK)).toBeUndefined();
    expect(sizingRiskWarning({ kind: 'equal-weight' }, 3, SEED_RISK)).toMatch(
      /equal-weight puts 33\.33% of equity in an entry, above risk profile seed's maxPositionPct 5%/,
    );
    expect(sizingRiskWarning({ kind: 'percent', percent: 5 }, 1, SEED_RISK)).toBeUndefined();
  });
});
