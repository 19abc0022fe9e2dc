// The options of a run as strategies see them through `ctx.chain`: each option symbol's contract (from the
// run's contract terms) and its last closing quotes, turned into a chain with implied volatilities and deltas
// by engine/options/chain.ts at the underlying's last close.
//
// Which greeks a run reports:
// - a backtest (and a live session without external greeks) computes them: the implied volatility of each
//   contract's mid on a 100-step American CRR tree at the underlying's last close, and its delta at that
//   volatility. Nothing else feeds them, so a backtest is the same whatever runs live.
// - a live session given `external` greeks (IB's tickOptionComputation, engine/ib/option-greeks-live.ts) takes
//   the implied volatility and delta of IB's model computation for every contract IB has computed (IB's model
//   volatility, not necessarily the one of our mid); a contract IB has not computed yet (or marked "not
//   computed") is computed here as in a backtest.
import type { ChainOption, ChainQuery, OptionChain } from '../core/strategy.ts';
import type { Bar, ContractTerms, EpochMs } from '../core/types.ts';
import type { OptionInstrument } from '../instruments/instrument.ts';
import { usEquityOption } from '../instruments/specs.ts';
import { analyzeQuote, buildChain, type ChainPricing, type OptionQuote } from '../options/chain.ts';

/** Tree steps for the chain's implied volatilities: about 0.45 ms a contract (engine/options/chain.ts). */
const STEPS = 100;

/** Greeks from outside the run (IB's, live), by run symbol: undefined (or a field absent) while there are none. */
export interface ExternalGreeks {
  greeks(symbol: string): { impliedVol?: number; delta?: number } | undefined;
}

export class OptionBook {
  /** per run symbol: its option contract, or null for a symbol that is not an option */
  private readonly contracts: (OptionInstrument | null)[];
  /** per run symbol: [last closing bid, last closing ask] (NaN: none yet) */
  private readonly quotes: Float64Array;

  constructor(
    private readonly symbols: readonly string[],
    terms: readonly (ContractTerms | undefined)[],
    /** IB's greeks in a live session (see the top of the file); absent: every greek is computed */
    private readonly external?: ExternalGreeks,
  ) {
    this.contracts = symbols.map((_, sid) => {
      const t = terms[sid];
      // an option without its terms (a hand-written config) is not in any chain; bad terms are the expiry's to
      // refuse, naming the field (option-expiry.ts)
      if (t?.secType !== 'OPT' || t.underlying === undefined || t.expiry === undefined || t.strike === undefined || t.right === undefined) return null;
      try {
        return usEquityOption({ underlying: t.underlying, expiry: t.expiry, strike: t.strike, right: t.right });
      } catch {
        return null;
      }
    });
    this.quotes = new Float64Array(2 * symbols.length).fill(Number.NaN);
  }

  /** Keeps the closing quotes of the options among a group of bars. */
  onBars(bars: readonly Bar[], n: number): void {
    for (let k = 0; k < n; k++) {
      const b = bars[k]!;
      if (b.bid === undefined || this.contracts[b.sid] === null) continue;
      this.quotes[2 * b.sid] = b.bid;
      this.quotes[2 * b.sid + 1] = b.ask ?? Number.NaN;
    }
  }

  chain(underlying: string, spot: number, now: EpochMs, q: ChainQuery): OptionChain {
    const quotes: OptionQuote[] = [];
    const sidOf = new Map<string, number>();
    this.contracts.forEach((contract, sid) => {
      if (contract === null || contract.underlying !== underlying) return;
      const bid = this.quotes[2 * sid]!;
      const ask = this.quotes[2 * sid + 1]!;
      const symbol = this.symbols[sid]!;
      sidOf.set(symbol, sid);
      quotes.push({ symbol, contract, bid: Number.isNaN(bid) ? null : bid, ask: Number.isNaN(ask) ? null : ask, bidSize: 0, askSize: 0, time: now });
    });
    if (quotes.length === 0 || !(spot > 0)) return { spot, options: [] };
    const filter = {
      ...(q.right !== undefined ? { right: q.right } : {}),
      ...(q.minDays !== undefined ? { minDays: q.minDays } : {}),
      ...(q.maxDays !== undefined ? { maxDays: q.maxDays } : {}),
      ...(q.strikes !== undefined ? { strikes: q.strikes } : {}),
      ...(q.moneyness !== undefined ? { moneyness: q.moneyness } : {}),
    };
    const pricing: ChainPricing = { rate: q.rate ?? 0, model: 'crr', steps: STEPS };
    // with external greeks the chain is filtered unpriced and only the contracts without them are priced here
    const chain = buildChain(quotes, spot, now, filter, this.external ? undefined : pricing);
    const bySymbol = this.external ? new Map(quotes.map((x) => [x.symbol, x])) : null;
    const options: ChainOption[] = [];
    for (const e of chain.expiries) {
      for (const s of e.strikes) {
        for (const entry of [s.call, s.put]) {
          if (entry === null) continue;
          const { iv, delta } = bySymbol ? this.externalOr(bySymbol.get(entry.symbol)!, pricing, spot) : { iv: entry.iv, delta: entry.greeks?.delta ?? null };
          options.push({
            sid: sidOf.get(entry.symbol)!,
            symbol: entry.symbol,
            right: entry.contract.right,
            strike: entry.contract.strike,
            expiry: entry.contract.expiry,
            bid: entry.bid ?? Number.NaN,
            ask: entry.ask ?? Number.NaN,
            mid: entry.mid ?? Number.NaN,
            iv: iv ?? Number.NaN,
            delta: delta ?? Number.NaN,
          });
        }
      }
    }
    return { spot, options };
  }

  /** IB's implied volatility and delta of a contract when both came, else the contract's priced here. */
  private externalOr(quote: OptionQuote, pricing: ChainPricing, spot: number): { iv: number | null; delta: number | null } {
    const g = this.external!.greeks(quote.symbol);
    if (g?.impliedVol !== undefined && g.delta !== undefined) return { iv: g.impliedVol, delta: g.delta };
    const a = analyzeQuote(quote, pricing, spot);
    return { iv: a.iv, delta: a.greeks?.delta ?? null };
  }
}
