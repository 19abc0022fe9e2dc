// Corporate actions in a raw-price backtest (`--prices raw`): the replay hands each symbol's splits and
// dividends (loaded with its bars, engine/data/actions.ts) to this applier, which applies each on the first
// bar of its ex-date, before the broker fills anything on that bar:
// - the books (Portfolio.applySplit / applyDividend): positions x ratio, average costs / ratio, cash in lieu
//   of fractional shares at the last close; dividends paid (shorts charged) position x amount on the ex-date;
// - working orders, as IB adjusts them for a split: remaining quantity x ratio (rounded down to whole shares;
//   an order left with none is cancelled), limit, stop and trailing amount / ratio (not rounded to the tick,
//   so the raw run matches the adjusted one); a bracket's legs not yet placed likewise. Dividends leave orders
//   as they are (exchanges stopped adjusting orders for cash dividends, and IB does not);
// - the bar history of the symbol (a copy: the loaded bars are never written), the marks and the benchmark's
//   closes go on the new basis, as an adjusted series has them, so indicators and the buy-and-hold benchmark
//   stay continuous; then the strategies' onCorporateAction rebuilds what they keep.
// Every action is journaled (a log line) and listed in the report.
import type { AppliedAction, CorporateActionEvent } from '../core/corporate-action.ts';
import type { BarSeries, EpochMs, Order } from '../core/types.ts';
import { actionsOf, ymdMs, type CorporateAction } from '../data/actions.ts';
import type { SimBroker } from '../exec/sim-broker.ts';
import type { BenchmarkRecorder } from './benchmark.ts';
import type { Engine } from './engine.ts';

const DAY_MS = 86_400_000;

/** The history the replay keeps (WindowHistory in backtest.ts): one series and a cursor per symbol. */
interface History {
  series: BarSeries[];
  readonly idx: Int32Array;
}

const COLS = ['open', 'high', 'low', 'close', 'volume'] as const;

export class CorporateActionApplier {
  readonly applied: AppliedAction[] = [];
  private readonly pending: (CorporateAction & { after: number })[][];
  private readonly next: Int32Array;
  private readonly registered: boolean[];

  constructor(
    private readonly engine: Engine,
    private readonly broker: SimBroker,
    private readonly history: History,
    private readonly benchmark: BenchmarkRecorder,
  ) {
    const n = engine.portfolio.symbols.length;
    this.pending = Array.from({ length: n }, () => []);
    this.next = new Int32Array(n);
    this.registered = new Array(n).fill(false);
  }

  /** Takes the actions a chunk's series carry (each symbol's once: every chunk of a raw load carries them all). */
  register(chunk: readonly BarSeries[]): void {
    for (let sid = 0; sid < chunk.length; sid++) {
      if (this.registered[sid]) continue;
      const actions = actionsOf(chunk[sid]!);
      if (!actions) continue;
      this.registered[sid] = true;
      // the day number after which each applies: the first bar dated after its factor date
      this.pending[sid] = actions
        .map((a) => ({ ...a, after: Math.floor(ymdMs(Number(a.factorDate.replaceAll('-', ''))) / DAY_MS) }))
        .sort((a, b) => a.after - b.after || (a.kind === b.kind ? 0 : a.kind === 'dividend' ? -1 : 1));
    }
  }

  /**
   * A bar of `sid` on trading day `day` (exchange-local day number) starting at `ts` arrives: applies the
   * actions due. Actions before the symbol's first bar in the run are skipped (the bars are already after them).
   */
  arrive(sid: number, day: number, ts: EpochMs): void {
    const list = this.pending[sid]!;
    let k = this.next[sid]!;
    if (k >= list.length || list[k]!.after >= day) return;
    const idx = this.history.idx[sid]!;
    const prevClose = idx >= 0 ? this.history.series[sid]!.close[idx]! : NaN;
    for (; k < list.length && list[k]!.after < day; k++) {
      if (Number.isNaN(prevClose) || !(prevClose > 0)) continue; // nothing before it in this run
      this.apply(sid, list[k]!, ts, prevClose);
    }
    this.next[sid] = k;
  }

  private apply(sid: number, a: CorporateAction, ts: EpochMs, prevClose: number): void {
    const engine = this.engine;
    const p = engine.portfolio;
    const before = p.position(sid);
    let cash = 0;
    let adjusted = 0;
    let cancelled = 0;
    let scale: number;
    if (a.kind === 'split') {
      cash = p.applySplit(sid, a.value, prevClose, ts, engine.trades);
      const r = this.adjustOrders(sid, a.value);
      adjusted = r.adjusted;
      cancelled = r.cancelled;
      this.broker.setLastClose(sid, prevClose / a.value);
      scale = 1 / a.value;
    } else {
      cash = p.applyDividend(sid, a.value);
      // back-adjusted as LEAN's price factor does: (close - dividend) / close
      scale = (prevClose - a.value) / prevClose;
    }
    this.rescaleHistory(sid, scale, a.kind === 'split' ? a.value : 1);
    if (sid === this.benchmark.sid) for (let j = 0; j < this.benchmark.closes.close.length; j++) this.benchmark.closes.close[j]! *= scale;
    const applied: AppliedAction = {
      symbol: a.symbol,
      kind: a.kind,
      exDate: a.exDate,
      value: a.value,
      ts,
      prevClose,
      positionBefore: before,
      positionAfter: p.position(sid),
      cash,
      ordersAdjusted: adjusted,
      ordersCancelled: cancelled,
    };
    this.applied.push(applied);
    const event: CorporateActionEvent = { symbol: a.symbol, sid, kind: a.kind, exDate: a.exDate, value: a.value, priceScale: scale };
    engine.corporateAction(event, describeAction(applied));
  }

  /** Working orders of `sid` after a split of `ratio`: see the file's comment. */
  private adjustOrders(sid: number, ratio: number): { adjusted: number; cancelled: number } {
    let adjusted = 0;
    let cancelled = 0;
    for (const o of [...this.broker.workingOrders(sid)]) {
      if (o.qty.kind === 'shares') {
        const filled = o.filledQty * ratio;
        const left = Math.floor((o.qty.shares - o.filledQty) * ratio + 1e-9);
        if (left <= 0) {
          this.engine.cancel(o.id, `split ${ratio} for 1 leaves order ${o.id} no whole share`);
          cancelled++;
          continue;
        }
        o.filledQty = filled;
        o.qty = { kind: 'shares', shares: filled + left };
        o.avgFillPrice /= ratio;
      }
      scalePrices(o, ratio);
      for (const leg of o.pendingChildren) {
        if (leg.limit !== undefined) leg.limit /= ratio;
        if (leg.stop !== undefined) leg.stop /= ratio;
      }
      adjusted++;
    }
    return { adjusted, cancelled };
  }

  /** The bars of `sid` before the current one, prices x scale and volume x volumeScale, in a copy. */
  private rescaleHistory(sid: number, scale: number, volumeScale: number): void {
    const s = this.history.series[sid]!;
    const end = this.history.idx[sid]! + 1;
    const copy = { ...s } as BarSeries;
    for (const c of COLS) {
      const a = Float64Array.from(s[c]);
      const k = c === 'volume' ? volumeScale : scale;
      if (k !== 1) for (let i = 0; i < end; i++) a[i]! *= k;
      copy[c] = a;
    }
    this.history.series[sid] = copy;
  }
}

function scalePrices(o: Order, ratio: number): void {
  if (Number.isFinite(o.limit)) o.limit /= ratio;
  if (Number.isFinite(o.stop)) o.stop /= ratio;
  if (o.trailingAmount > 0) o.trailingAmount /= ratio;
}

/** 'AAPL split 7 for 1 (ex 2014-06-09): position 100 -> 700, ...' */
export function describeAction(a: AppliedAction): string {
  const n = (x: number) => Number(x.toFixed(6)).toLocaleString('en-US', { maximumFractionDigits: 6 });
  if (a.kind === 'split') {
    const ratio = a.value >= 1 ? `${n(a.value)} for 1` : `1 for ${n(1 / a.value)}`;
    const orders = a.ordersAdjusted + a.ordersCancelled > 0 ? `; ${a.ordersAdjusted} working order(s) adjusted, ${a.ordersCancelled} cancelled` : '';
    const lieu = a.cash !== 0 ? `, cash in lieu ${a.cash.toFixed(2)}` : '';
    return `corporate action: ${a.symbol} split ${ratio} (ex ${a.exDate}, last close ${n(a.prevClose)}): position ${n(a.positionBefore)} -> ${n(a.positionAfter)}${lieu}${orders}`;
  }
  return `corporate action: ${a.symbol} dividend ${n(a.value)} a share (ex ${a.exDate}): position ${n(a.positionBefore)}, cash ${a.cash >= 0 ? '+' : ''}${a.cash.toFixed(2)}`;
}
