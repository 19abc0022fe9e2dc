import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cash,
  future,
  InstrumentError,
  isOnTick,
  limitToTick,
  notional,
  option,
  pnl,
  roundToTick,
  stock,
  tickDecimals,
  tickValue,
  validateInstrument,
} from '../../engine/instruments/instrument.ts';
import { futureContract, US_EQUITY_OPTION } from '../../engine/instruments/specs.ts';

const es = futureContract('ES', '201312');
const aapl645 = option({ ...US_EQUITY_OPTION, underlying: 'AAPL', expiry: '2014-06-13', strike: 645, right: 'C' });

describe('money goes through the multiplier', () => {
  it('ES: 50 dollars a point', () => {
    // 2 contracts at 1775.00: 2 x 50 x 1775 = 177,500
    expect(notional(es, 2, 1775)).toBe(177_500);
    // long 3 from 1768.75 to 1803.75: 3 x 50 x 35 = 5,250
    expect(pnl(es, 3, 1768.75, 1803.75)).toBe(5_250);
    // short 1 from 1810.25, bought back at 1809.00: -1 x 50 x (1809 - 1810.25) = +62.50
    expect(pnl(es, -1, 1810.25, 1809)).toBe(62.5);
    // one tick: 0.25 x 50 = 12.50
    expect(tickValue(es)).toBe(12.5);
  });
  it('US equity options: 100 shares a contract', () => {
    // 5 AAPL 645 calls bought at 12.15 (the 2014-06-06 12:00 bid, DERIVATIVES.md): 5 x 100 x 12.15 = 6,075
    expect(notional(aapl645, 5, 12.15)).toBeCloseTo(6_075, 9);
    // sold at 12.40: 5 x 100 x 0.25 = 125
    expect(pnl(aapl645, 5, 12.15, 12.4)).toBeCloseTo(125, 9);
    // written (short) 2 at 7.45, bought back at 7.30: -2 x 100 x (7.30 - 7.45) = +30
    expect(pnl(aapl645, -2, 7.45, 7.3)).toBeCloseTo(30, 9);
  });
  it('a stock has multiplier 1; a pair counts units of the base currency, P&L in the quote currency', () => {
    expect(notional(stock({ symbol: 'AAPL' }), 10, 645.57)).toBeCloseTo(6_455.7, 9);
    const gbpusd = cash({ baseCurrency: 'GBP', quoteCurrency: 'USD', tickSize: 0.00005 });
    // 100,000 GBP bought at 1.5000, sold at 1.5100: 100,000 x 0.01 = 1,000 USD
    expect(pnl(gbpusd, 100_000, 1.5, 1.51)).toBeCloseTo(1_000, 6);
  });
  it('notional and pnl scale with the multiplier exactly (a path without it would be off by the multiplier)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 1, max: 400_000 }),
        fc.integer({ min: 1, max: 400_000 }),
        fc.constantFrom(1, 50, 100, 1000),
        (qty, a, b, m) => {
          const inst = { ...es, multiplier: m };
          const [entry, exit] = [a / 4, b / 4]; // quarter points: exact in binary
          expect(notional(inst, qty, entry)).toBe(qty * entry * m);
          expect(pnl(inst, qty, entry, exit)).toBe(notional(inst, qty, exit) - notional(inst, qty, entry));
        },
      ),
    );
  });
});

describe('tick rounding', () => {
  it('hand cases: nearest (half-even on ties), down, up', () => {
    expect(roundToTick(1776.1, 0.25)).toBe(1776);
    expect(roundToTick(1776.2, 0.25)).toBe(1776.25);
    // 1776.125 is halfway between 1776.00 (k = 7104, even) and 1776.25 (k = 7105): the even one
    expect(roundToTick(1776.125, 0.25)).toBe(1776);
    // 1776.375 is halfway between 1776.25 (k = 7105) and 1776.50 (k = 7106, even)
    expect(roundToTick(1776.375, 0.25)).toBe(1776.5);
    expect(roundToTick(1776.1, 0.25, 'down')).toBe(1776);
    expect(roundToTick(1776.1, 0.25, 'up')).toBe(1776.25);
    // already on the tick despite 1.2345 / 0.00005 = 24689.999999999996 in floating point
    expect(roundToTick(1.2345, 0.00005, 'up')).toBe(1.2345);
    expect(roundToTick(1.2345, 0.00005, 'down')).toBe(1.2345);
    expect(roundToTick(1.234567, 0.00005)).toBe(1.23455);
    expect(roundToTick(1285.37, 0.1)).toBe(1285.4);
    // 1.23455 / 0.0001 = 12345.499999999998 in floating point: still the decimal tie, so half-even -> 1.2346
    expect(roundToTick(1.23455, 0.0001)).toBe(1.2346);
    expect(roundToTick(1.23445, 0.0001)).toBe(1.2344);
    // a price a tenth of a tick above a large multiple is not on the tick
    expect(roundToTick(5000.000005, 0.00005, 'up')).toBe(5000.00005);
  });
  it('limit prices round towards the side that keeps the limit', () => {
    expect(limitToTick(es, 'BUY', 1776.1)).toBe(1776); // pays at most what was asked
    expect(limitToTick(es, 'SELL', 1776.1)).toBe(1776.25); // sells for at least what was asked
    expect(isOnTick(es, 1776.25)).toBe(true);
    expect(isOnTick(es, 1776.3)).toBe(false);
  });
  it('decimals of a tick', () => {
    expect([0.25, 0.1, 0.01, 0.00005, 0.005, 5, 1 / 64].map(tickDecimals)).toEqual([2, 1, 2, 5, 3, 0, 6]);
  });
  it('properties: on the tick, within half a tick (nearest) or one tick on the chosen side, idempotent', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.0001, max: 5000, noNaN: true }), fc.constantFrom(0.25, 0.1, 0.01, 0.00005, 0.005), (p, tick) => {
        const near = roundToTick(p, tick);
        const down = roundToTick(p, tick, 'down');
        const up = roundToTick(p, tick, 'up');
        const eps = Math.max(1e-9, (p / tick) * 1e-12) * tick; // the rounding's tolerance for decimal inputs
        for (const r of [near, down, up]) {
          expect(roundToTick(r, tick)).toBe(r);
          expect(Math.abs(r / tick - Math.round(r / tick))).toBeLessThan(1e-6);
        }
        expect(Math.abs(near - p)).toBeLessThanOrEqual(tick / 2 + eps);
        expect(down).toBeLessThanOrEqual(p + eps);
        expect(up).toBeGreaterThanOrEqual(p - eps);
        expect(up - down).toBeLessThanOrEqual(tick + eps);
      }),
    );
  });
  it('rejects a tick that is not > 0', () => {
    expect(() => roundToTick(1, 0)).toThrow(/tick must be/);
  });
});

describe('validation rejects inconsistent instruments, naming the field', () => {
  const fails = (x: Record<string, unknown>, field: string, rule: RegExp) => {
    let err: unknown;
    try {
      validateInstrument(x);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InstrumentError);
    expect((err as InstrumentError).field).toBe(field);
    expect((err as InstrumentError).message).toMatch(rule);
  };
  const opt = {
    secType: 'OPT',
    symbol: 'GOOG',
    underlying: 'GOOG',
    exchange: 'SMART',
    currency: 'USD',
    multiplier: 100,
    tickSize: 0.01,
    expiry: '2015-12-24',
    strike: 750,
    right: 'C',
  };
  it('accepts a consistent option, future, pair', () => {
    expect(validateInstrument(opt).secType).toBe('OPT');
    expect(
      future({ symbol: 'ES', exchange: 'CME', currency: 'USD', multiplier: 50, tickSize: 0.25, contractMonth: '201312', expiry: '2013-12-20' }).contractMonth,
    ).toBe('201312');
    expect(cash({ baseCurrency: 'EUR', quoteCurrency: 'GBP', tickSize: 0.00005 }).symbol).toBe('EUR');
  });
  it('an option without a strike, with a zero strike, or with a bad right', () => {
    fails({ ...opt, strike: undefined }, 'strike', /finite number > 0, got nothing/);
    fails({ ...opt, strike: 0 }, 'strike', /> 0/);
    fails({ ...opt, right: 'CALL' }, 'right', /'C' or 'P'/);
    fails({ ...opt, expiry: '2015-12-32' }, 'expiry', /YYYY-MM-DD/);
    fails({ ...opt, occExpiry: '2015-12-23' }, 'occExpiry', /before the last trading day/);
  });
  it('a multiplier or tick <= 0, a bad currency, an unknown type', () => {
    fails({ ...opt, multiplier: 0 }, 'multiplier', /> 0/);
    fails({ ...opt, multiplier: -100 }, 'multiplier', /> 0/);
    fails({ ...opt, tickSize: Number.NaN }, 'tickSize', /finite/);
    fails({ ...opt, currency: 'usd' }, 'currency', /ISO currency/);
    fails({ ...opt, secType: 'BOND' }, 'secType', /STK, OPT, FUT, CASH, IND/);
  });
  it('fields of another type', () => {
    fails(
      { secType: 'STK', symbol: 'AAPL', exchange: 'SMART', currency: 'USD', multiplier: 1, tickSize: 0.01, strike: 645 },
      'strike',
      /does not belong on a STK \(only OPT/,
    );
    fails({ ...opt, contractMonth: '201512' }, 'contractMonth', /only FUT/);
  });
  it('a future with a bad contract month or an expiry far from it', () => {
    const es = {
      secType: 'FUT',
      symbol: 'ES',
      exchange: 'CME',
      currency: 'USD',
      multiplier: 50,
      tickSize: 0.25,
      contractMonth: '201312',
      expiry: '2013-12-20',
    };
    fails({ ...es, contractMonth: '201313' }, 'contractMonth', /YYYYMM/);
    fails({ ...es, contractMonth: '2013-12' }, 'contractMonth', /YYYYMM/);
    fails({ ...es, expiry: '2014-01-17' }, 'expiry', /outside contract month 201312/);
    fails({ ...es, expiry: '2013-09-20' }, 'expiry', /outside contract month 201312/);
    // CL-style: expiring the month before the contract month is allowed
    expect(validateInstrument({ ...es, expiry: '2013-11-20' }).secType).toBe('FUT');
  });
  it('a pair must follow IB: symbol = base, currency = quote, two currencies', () => {
    const p = {
      secType: 'CASH',
      symbol: 'GBP',
      exchange: 'IDEALPRO',
      currency: 'USD',
      multiplier: 1,
      tickSize: 0.00005,
      baseCurrency: 'GBP',
      quoteCurrency: 'USD',
    };
    fails({ ...p, currency: 'GBP' }, 'currency', /quote currency USD/);
    fails({ ...p, symbol: 'GBP.USD' }, 'symbol', /base currency GBP/);
    fails({ ...p, quoteCurrency: 'GBP', currency: 'GBP' }, 'quoteCurrency', /differ/);
  });
});
