// Option expiry in a backtest: at the close of an option's last trading day (its contract terms' `expiry`), every
// book's open position in it is settled against its underlying's last close that day, S:
// - in the money by at least 0.01 (OCC's exercise-by-exception threshold; intrinsic S - K for a call, K - S for
//   a put): a long is exercised and a short assigned into the underlying at the strike: qty x multiplier /
//   the underlying's multiplier units (100 shares a contract for a stock option) bought (long call, short put)
//   or sold (long put, short call) at K, and the option position closed at 0, so its round trip's P&L is
//   -premium for a long and +premium for a short; the position's value moves into the underlying unchanged;
// - out of the money (or less than 0.01 in): it expires worthless, closed at 0;
// - when the underlying is not one of the run's symbols: settled in cash at its intrinsic value (the option
//   position closed at max(intrinsic, 0) when in the money by the threshold), S coming from the run's
//   `underlyingClose` (a run without it fails, naming the option, rather than guess S).
// These are fills without an order (orderId 0, reason and execId 'exercise.N' / 'assignment.N' / 'expiry.N'),
// without commission (IBKR charges none for exercise and assignment), journaled after a line that says what
// happened; they close round trips like any fill. Working orders in the option are cancelled.
//
// When: after the last bar group of the expiry day has been shown to the strategies, before the first bar group
// of a later day reaches the broker (or when the run ends, if its last day is the expiry day or later). With
// daily bars that is the expiry bar's close. The fills are stamped with the start of the day's last bar group
// (as fills on bars are), the journal line with the engine's time (that group's close). An option whose last
// trading day had no bar is settled at the first bar group after it, against the underlying's last close then.
// The equity sampled at the expiry day's close is the one before settling, with the option at its last price.
import type { ContractTerms, EpochMs, Fill } from '../core/types.ts';
import { dayNumber, isIsoDate } from '../instruments/iso-date.ts';
import type { Engine } from './engine.ts';

/** The close of `underlying` on `date` (YYYY-MM-DD), NaN when not known. */
export type UnderlyingClose = (underlying: string, date: string) => number;

/** OCC's exercise-by-exception threshold: options at least this far in the money are exercised. */
export const EXERCISE_THRESHOLD = 0.01;

/** One option of the run, with what settling it needs. */
interface ExpiringOption {
  sid: number;
  symbol: string;
  expiry: string;
  expiryDay: number;
  strike: number;
  right: 'C' | 'P';
  multiplier: number;
  underlying: string;
  /** the underlying's sid in the run, -1 when it is not a run symbol (cash settlement) */
  underSid: number;
  underMultiplier: number;
}

/** The run's options (secType OPT in config.contracts) to settle at expiry; null when it has none. */
export function optionExpiry(
  config: { symbols: readonly string[]; contracts?: Record<string, ContractTerms> },
  engine: Engine,
  underlyingClose?: UnderlyingClose,
): OptionExpiry | null {
  const contracts = config.contracts;
  if (contracts === undefined) return null;
  const options: ExpiringOption[] = [];
  config.symbols.forEach((symbol, sid) => {
    const c = contracts[symbol];
    // an option without an expiry (terms written before issue 15's option fields) is never settled: marked like any position
    if (c?.secType !== 'OPT' || c.expiry === undefined || config.symbols.indexOf(symbol) !== sid) return;
    const where = `contracts.${symbol}`;
    if (!isIsoDate(c.expiry)) throw new Error(`${where}.expiry: an option needs its last trading day as YYYY-MM-DD, got ${c.expiry}`);
    if (!(Number.isFinite(c.strike) && c.strike! > 0)) throw new Error(`${where}.strike: an option needs a strike > 0, got ${c.strike}`);
    if (c.right !== 'C' && c.right !== 'P') throw new Error(`${where}.right: an option needs 'C' or 'P', got ${c.right}`);
    if (!c.underlying) throw new Error(`${where}.underlying: an option needs its underlying's symbol`);
    const underSid = config.symbols.indexOf(c.underlying);
    options.push({
      sid,
      symbol,
      expiry: c.expiry,
      expiryDay: dayNumber(c.expiry),
      strike: c.strike!,
      right: c.right,
      multiplier: c.multiplier,
      underlying: c.underlying,
      underSid,
      underMultiplier: underSid < 0 ? 1 : (contracts[c.underlying]?.multiplier ?? 1),
    });
  });
  return options.length === 0 ? null : new OptionExpiry(engine, options, underlyingClose);
}

export class OptionExpiry {
  /** options by last trading day; those before `next` are settled */
  private readonly options: ExpiringOption[];
  private next = 0;
  private seq = 0;

  constructor(
    private readonly engine: Engine,
    options: ExpiringOption[],
    private readonly underlyingClose?: UnderlyingClose,
  ) {
    this.options = options.slice().sort((a, b) => a.expiryDay - b.expiryDay || a.sid - b.sid);
  }

  /**
   * Trading day `day` (days since the epoch) has ended, its last bar group starting at `ts`: settles every
   * option whose last trading day was `day` or before.
   */
  dayEnded(day: number, ts: EpochMs): void {
    while (this.next < this.options.length && this.options[this.next]!.expiryDay <= day) this.settle(this.options[this.next++]!, ts);
  }

  private settle(o: ExpiringOption, ts: EpochMs): void {
    const engine = this.engine;
    for (const order of engine.openOrders(o.sid)) engine.cancel(order.id, `option ${o.symbol} expired (last trading day ${o.expiry})`);
    const books = engine.portfolio.books;
    if (!books.some((b) => b.qty[o.sid] !== 0)) return;
    const inRun = o.underSid >= 0;
    const s = inRun ? engine.portfolio.marks[o.underSid]! : (this.underlyingClose?.(o.underlying, o.expiry) ?? NaN);
    if (!Number.isFinite(s)) {
      const why = inRun ? 'it has no bar in the run before then' : 'it is not a run symbol and the run was given no underlyingClose for it';
      throw new Error(
        `option ${o.symbol} expires ${o.expiry} with an open position, but its underlying ${o.underlying} has no close to settle it against: ${why}`,
      );
    }
    const intrinsic = o.right === 'C' ? s - o.strike : o.strike - s;
    // 1e-9: 750.01 - 750 is 0.00999999999990905 in doubles
    const itm = intrinsic >= EXERCISE_THRESHOLD - 1e-9;
    books.forEach((book, slot) => {
      const q = book.qty[o.sid]!;
      if (q === 0) return;
      const reason = !itm ? 'expiry' : q > 0 ? 'exercise' : 'assignment';
      const head = `option ${o.right === 'C' ? 'call' : 'put'} ${o.symbol} (strike ${o.strike}, last trading day ${o.expiry}): ${q > 0 ? 'long' : 'short'} ${Math.abs(q)}, ${o.underlying} closed ${s}`;
      if (!itm) {
        engine.settle(slot, [this.fill(book.name, o.sid, o.symbol, ts, -q, 0, reason)], `${head}: expired worthless`);
        return;
      }
      if (!inRun) {
        engine.settle(
          slot,
          [this.fill(book.name, o.sid, o.symbol, ts, -q, intrinsic, reason)],
          `${head}: ${reason === 'exercise' ? 'exercised' : 'assigned'}, settled in cash at its intrinsic value ${intrinsic} (${o.underlying} is not in the run)`,
        );
        return;
      }
      // a call delivers the underlying to its holder, a put takes it from them; a short is on the other side
      const units = (q * o.multiplier * (o.right === 'C' ? 1 : -1)) / o.underMultiplier;
      const optionFill = this.fill(book.name, o.sid, o.symbol, ts, -q, 0, reason);
      const underFill = this.fill(book.name, o.underSid, o.underlying, ts, units, o.strike, reason);
      const did = reason === 'exercise' ? 'exercised' : 'assigned';
      engine.settle(slot, [optionFill, underFill], `${head}: ${did}, ${units > 0 ? 'bought' : 'sold'} ${Math.abs(units)} ${o.underlying} at ${o.strike}`);
    });
  }

  private fill(strategy: string, sid: number, symbol: string, ts: EpochMs, qty: number, price: number, reason: 'exercise' | 'assignment' | 'expiry'): Fill {
    return { orderId: 0, strategy, symbol, sid, ts, qty, price, commission: 0, execId: `${reason}.${++this.seq}`, reason };
  }
}
