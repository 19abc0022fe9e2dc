import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CurrencyLedger, convert, crossRate, fixedRates } from '../../engine/fx/ledger.ts';

const AT = Date.UTC(2020, 0, 6);

describe('CurrencyLedger', () => {
  it('funds a USD stock purchase from GBP and marks it at the day’s rate', () => {
    const ledger = new CurrencyLedger('GBP');
    ledger.book('GBP', 20_000);
    // buying 100 shares at $150 plus $1 commission needs $15,001; at GBPUSD 1.25 that is 15,001 / 1.25 = £12,000.80
    ledger.exchange({ base: 'GBP', quote: 'USD' }, -12_000.8, 1.25);
    ledger.book('USD', -15_001);
    expect(ledger.balance('USD')).toBeCloseTo(0, 9);
    expect(ledger.balance('GBP')).toBeCloseTo(7_999.2, 9);
    // marked on a later day: shares at $160, GBPUSD 1.28: 100 x 160 / 1.28 = £12,500, plus £7,999.20 of cash
    const mark = fixedRates({ GBPUSD: 1.28 });
    const exposure = ledger.exposure(mark, AT, [{ currency: 'USD', marketValue: 16_000 }]);
    expect(exposure.get('USD')).toBeCloseTo(12_500, 9);
    expect(exposure.get('GBP')).toBeCloseTo(7_999.2, 9);
    expect(ledger.cashInBase(mark, AT)).toBeCloseTo(7_999.2, 9);
  });

  it('keeps an FX round trip’s P&L in the quote currency and values it in the base', () => {
    const ledger = new CurrencyLedger('GBP');
    const eurusd = { base: 'EUR', quote: 'USD' };
    // buy EUR 100,000 at 1.1000 (pay $110,000), sell them at 1.1200 (receive $112,000): +$2,000, no EUR left
    ledger.exchange(eurusd, 100_000, 1.1);
    ledger.exchange(eurusd, -100_000, 1.12, 2, 'USD');
    expect(ledger.balance('EUR')).toBe(0);
    expect(ledger.balance('USD')).toBeCloseTo(1_998, 9); // $2,000 less the $2 commission
    // in GBP at GBPUSD 1.25: 1,998 / 1.25 = £1,598.40
    expect(ledger.cashInBase(fixedRates({ GBPUSD: 1.25 }), AT)).toBeCloseTo(1_598.4, 9);
  });

  it('crosses through USD when the pair is not quoted, and inverts a pair quoted the other way round', () => {
    const rates = fixedRates({ EURUSD: 1.1, GBPUSD: 1.25 });
    expect(crossRate(rates, 'EUR', 'GBP', AT)).toBeCloseTo(1.1 / 1.25, 15); // EURGBP 0.88
    expect(crossRate(rates, 'USD', 'GBP', AT)).toBeCloseTo(0.8, 15);
    expect(convert(rates, 1_000, 'GBP', 'EUR', AT)).toBeCloseTo((1_000 * 1.25) / 1.1, 9);
  });

  it('refuses a missing rate, a bad code and a non-positive rate, naming them', () => {
    expect(() => convert(fixedRates({}), 10, 'USD', 'GBP', AT)).toThrow(/no USD\/GBP rate/);
    expect(() => new CurrencyLedger('gbp')).toThrow(/'gbp' is not a currency code/);
    expect(() => new CurrencyLedger('GBP').book('US', 1)).toThrow(/'US' is not a currency code/);
    expect(() => convert(fixedRates({ GBPUSD: 0 }), 10, 'GBP', 'USD', AT)).toThrow(/GBPUSD rate .* must be positive/);
    expect(() => new CurrencyLedger('GBP').book('USD', Number.NaN)).toThrow(/not a finite number/);
  });

  it('converts there and back to the same amount, and its exposure sums to its cash in the base', () => {
    const currency = fc.constantFrom('USD', 'GBP', 'EUR');
    fc.assert(
      fc.property(
        fc.double({ min: 1.05, max: 2.1, noNaN: true }),
        fc.double({ min: 0.9, max: 1.6, noNaN: true }),
        fc.array(fc.tuple(currency, fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 8 }),
        (gbpusd, eurusd, bookings) => {
          const rates = fixedRates({ GBPUSD: gbpusd, EURUSD: eurusd });
          for (const [from, to] of [
            ['GBP', 'EUR'],
            ['USD', 'GBP'],
            ['EUR', 'USD'],
          ] as const) {
            const back = convert(rates, convert(rates, 1234.5, from, to, AT), to, from, AT);
            expect(Math.abs(back - 1234.5)).toBeLessThan(1e-9);
          }
          const ledger = new CurrencyLedger('GBP');
          for (const [c, amount] of bookings) ledger.book(c, amount);
          const sum = [...ledger.exposure(rates, AT).values()].reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - ledger.cashInBase(rates, AT))).toBeLessThan(1e-6);
        },
      ),
    );
  });
});
