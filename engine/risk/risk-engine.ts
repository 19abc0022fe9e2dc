import type { EpochMs, RiskEvent, Side } from '../core/types.ts';
import type { BreakerConfig, RiskLimits } from './limits.ts';

/** What a pre-trade check needs to know about an order and the account. */
export interface OrderCheck {
  orderId: number;
  symbol: string;
  sector: string;
  side: Side;
  /** estimated shares (for all-in: what the cash buys at the last price) */
  qty: number;
  /** estimated price: the limit, else the stop, else the last close */
  price: number;
  /** the contract multiplier: one unit is worth price x multiplier (absent: 1, a stock) */
  multiplier?: number;
  /** futures: the initial margin of every futures position the account would hold after the order (base currency) */
  margin?: number;
  /** current position in this symbol (the order's book) */
  position: number;
  /** account equity and gross exposure, and the gross exposure of this symbol's sector */
  equity: number;
  gross: number;
  sectorGross: number;
}

export type Rejection = Omit<RiskEvent, 'ts' | 'orderId'>;

/**
 * What the risk engine must not forget across a crash: the tripped breaker (the kill switch is a
 * trip) with its reason, the equity peak, the day's starting equity and the order-rate windows.
 */
export interface SafetyState {
  tripped: Rejection | null;
  day: number;
  dayStartEquity: number;
  peak: number;
  lastEquity: number;
  ordersToday: number;
  /** submission times within the last minute, and error times within the error window */
  recent: number[];
  errors: number[];
}

/**
 * Pre-trade checks and the circuit breaker (DESIGN section 4): one engine, backtest and live.
 * Every rejection names the check, the value it saw and the limit.
 */
export class RiskEngine {
  private recent: number[] = []; // submission times within the last minute
  private day = NaN;
  private ordersToday = 0;
  private dayStartEquity = NaN;
  private peak = -Infinity;
  private lastEquity = NaN;
  private errors: number[] = [];
  tripped: Rejection | null = null;

  constructor(
    readonly limits: RiskLimits,
    readonly breaker: BreakerConfig,
  ) {}

  /** Called after every mark: tracks the day's opening equity and the peak; returns a trip if one fires now. */
  onEquity(day: number, equity: number): Rejection | null {
    if (day !== this.day) {
      this.day = day;
      this.ordersToday = 0;
      this.dayStartEquity = Number.isNaN(this.lastEquity) ? equity : this.lastEquity;
    }
    this.lastEquity = equity;
    if (equity > this.peak) this.peak = equity;
    if (this.tripped) return null;
    const b = this.breaker;
    const loss = this.dayStartEquity - equity;
    const lossPct = (loss / this.dayStartEquity) * 100;
    const ddPct = ((this.peak - equity) / this.peak) * 100;
    if (b.dailyLossPct !== undefined && lossPct >= b.dailyLossPct)
      return this.trip('circuitBreaker.dailyLossPct', lossPct, b.dailyLossPct, `daily loss ${lossPct.toFixed(2)}% reached the ${b.dailyLossPct}% limit`);
    if (b.dailyLossAbs !== undefined && loss >= b.dailyLossAbs)
      return this.trip('circuitBreaker.dailyLossAbs', loss, b.dailyLossAbs, `daily loss ${loss.toFixed(2)} reached the ${b.dailyLossAbs} limit`);
    if (b.drawdownPct !== undefined && ddPct >= b.drawdownPct)
      return this.trip('circuitBreaker.drawdownPct', ddPct, b.drawdownPct, `drawdown ${ddPct.toFixed(2)}% from the peak reached the ${b.drawdownPct}% limit`);
    return null;
  }

  /** A rejected order or a broker error: trips the breaker when too many come too fast. */
  recordError(ts: EpochMs): Rejection | null {
    const b = this.breaker;
    if (b.maxErrors === undefined || this.tripped) return null;
    const window = b.errorWindowMs ?? 60_000;
    this.errors.push(ts);
    while (this.errors.length && this.errors[0] <= ts - window) this.errors.shift();
    if (this.errors.length >= b.maxErrors)
      return this.trip('circuitBreaker.errorRate', this.errors.length, b.maxErrors, `${this.errors.length} errors within ${window / 1000} s`);
    return null;
  }

  kill(reason = 'manual kill switch'): Rejection {
    return this.trip('circuitBreaker.kill', 1, 0, reason);
  }

  /** A trip for a reason found outside the checks (reconciliation, the broker, the journal); null if already tripped. */
  halt(check: string, message: string): Rejection | null {
    return this.tripped ? null : this.trip(`circuitBreaker.${check}`, 1, 0, message);
  }

  /** Only a person resets a tripped breaker. */
  reset(): void {
    this.tripped = null;
    this.errors = [];
  }

  /** The state a restart must take back (JSON-safe apart from non-finite numbers, which the journal keeps). */
  safetyState(): SafetyState {
    return {
      tripped: this.tripped,
      day: this.day,
      dayStartEquity: this.dayStartEquity,
      peak: this.peak,
      lastEquity: this.lastEquity,
      ordersToday: this.ordersToday,
      recent: [...this.recent],
      errors: [...this.errors],
    };
  }

  restoreSafetyState(s: SafetyState): void {
    this.tripped = s.tripped;
    this.day = s.day;
    this.dayStartEquity = s.dayStartEquity;
    this.peak = s.peak;
    this.lastEquity = s.lastEquity;
    this.ordersToday = s.ordersToday;
    this.recent = [...s.recent];
    this.errors = [...s.errors];
  }

  private trip(check: string, value: number, limit: number, message: string): Rejection {
    this.tripped = { check, value, limit, message: `circuit breaker tripped: ${message}` };
    return this.tripped;
  }

  /** Runs every pre-trade check; returns the first rejection or null. Counts the order if approved. */
  check(o: OrderCheck, now: EpochMs): Rejection | null {
    const r = this.firstFailure(o, now);
    if (!r) {
      this.recent.push(now);
      this.ordersToday++;
    }
    return r;
  }

  private firstFailure(o: OrderCheck, now: EpochMs): Rejection | null {
    const L = this.limits;
    if (this.tripped) return { ...this.tripped, message: `order ${o.orderId} ${o.side} ${o.symbol} blocked: ${this.tripped.message} (reset required)` };
    if (!(o.qty > 0) || !Number.isFinite(o.price)) {
      return {
        check: 'validOrder',
        value: o.qty,
        limit: 0,
        message: `order ${o.orderId} ${o.side} ${o.symbol}: quantity ${o.qty} at ${o.price} is not a positive whole number at a known price`,
      };
    }
    if (L.allowedSymbols && !L.allowedSymbols.includes(o.symbol)) {
      return {
        check: 'allowedSymbols',
        value: 0,
        limit: 0,
        message: `order ${o.orderId}: symbol ${o.symbol} is not in the allowed list (${L.allowedSymbols.join(', ')})`,
      };
    }
    const signed = o.side === 'BUY' ? o.qty : -o.qty;
    const after = o.position + signed;
    if (L.longOnly && after < 0) return rejectOrder(o, 'longOnly', after, 0, 'resulting position');
    while (this.recent.length && this.recent[0] <= now - 60_000) this.recent.shift();
    if (L.maxOrdersPerMinute !== undefined && this.recent.length + 1 > L.maxOrdersPerMinute)
      return rejectOrder(o, 'maxOrdersPerMinute', this.recent.length + 1, L.maxOrdersPerMinute, 'orders in the last minute');
    if (L.maxOrdersPerDay !== undefined && this.ordersToday + 1 > L.maxOrdersPerDay)
      return rejectOrder(o, 'maxOrdersPerDay', this.ordersToday + 1, L.maxOrdersPerDay, 'orders today');
    // The remaining checks limit new risk: an order that only reduces a position always passes them.
    if (Math.abs(after) <= Math.abs(o.position) && Math.sign(after) * Math.sign(o.position) >= 0) return null;
    if (o.margin !== undefined && o.margin > o.equity)
      return rejectOrder(o, 'initialMargin', o.margin, o.equity, 'initial margin of the futures held after it, against equity');
    const unit = o.price * (o.multiplier ?? 1);
    const value = o.qty * unit;
    if (L.maxOrderQty !== undefined && o.qty > L.maxOrderQty) return rejectOrder(o, 'maxOrderQty', o.qty, L.maxOrderQty, 'quantity');
    if (L.maxOrderValue !== undefined && value > L.maxOrderValue) return rejectOrder(o, 'maxOrderValue', value, L.maxOrderValue, 'order value');
    const posPct = ((Math.abs(after) * unit) / o.equity) * 100;
    if (L.maxPositionPct !== undefined && posPct > L.maxPositionPct) return rejectOrder(o, 'maxPositionPct', posPct, L.maxPositionPct, 'position % of equity');
    const added = (Math.abs(after) - Math.abs(o.position)) * unit;
    const lev = (o.gross + added) / o.equity;
    if (L.maxLeverage !== undefined && lev > L.maxLeverage + 1e-12) return rejectOrder(o, 'maxLeverage', lev, L.maxLeverage, 'gross leverage');
    const secPct = ((o.sectorGross + added) / o.equity) * 100;
    if (L.maxSectorPct !== undefined && secPct > L.maxSectorPct)
      return rejectOrder(o, 'maxSectorPct', secPct, L.maxSectorPct, `sector '${o.sector}' % of equity`);
    const loss = this.dayStartEquity - o.equity;
    if (L.maxDailyLossPct !== undefined && (loss / this.dayStartEquity) * 100 >= L.maxDailyLossPct)
      return rejectOrder(o, 'maxDailyLossPct', (loss / this.dayStartEquity) * 100, L.maxDailyLossPct, "today's loss %");
    if (L.maxDailyLossAbs !== undefined && loss >= L.maxDailyLossAbs) return rejectOrder(o, 'maxDailyLossAbs', loss, L.maxDailyLossAbs, "today's loss");
    const dd = ((this.peak - o.equity) / this.peak) * 100;
    if (L.maxDrawdownPct !== undefined && dd >= L.maxDrawdownPct) return rejectOrder(o, 'maxDrawdownPct', dd, L.maxDrawdownPct, 'drawdown % from peak');
    return null;
  }
}

/** A limit's rejection of order `o` (a function, not a closure made for every order checked). */
function rejectOrder(o: OrderCheck, check: string, value: number, limit: number, what: string): Rejection {
  return {
    check,
    value,
    limit,
    message: `order ${o.orderId} ${o.side} ${o.qty} ${o.symbol} rejected by ${check}: ${what} ${fmt(value)} exceeds the limit ${fmt(limit)}`,
  };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, ''));
