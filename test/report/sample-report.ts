// A deterministic synthetic report (seeded PRNG) for tests and for previewing the HTML layout.
// Not a backtest: prices, trades and equity are generated to look plausible, nothing more.
import type { EquityPoint, RiskEvent, Trade } from '../../engine/core/types.ts';
import { buildReport, type FillLike, type OrderLike } from '../../engine/report/build.ts';
import type { Report } from '../../engine/report/report-types.ts';

const DAY = 86_400_000;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleOptions {
  seed?: number;
  /** trading days (weekdays) of equity after the first point */
  days?: number;
  symbols?: string[];
  startingCash?: number;
}

export function sampleReport(opts: SampleOptions = {}): Report {
  const rnd = prng(opts.seed ?? 7);
  const symbols = opts.symbols ?? ['AAPL', 'MSFT'];
  const days = opts.days ?? 500;
  const cash0 = opts.startingCash ?? 100_000;

  // weekday timestamps from 2022-01-03 (a Monday)
  const ts: number[] = [];
  for (let t = Date.UTC(2022, 0, 3); ts.length <= days; t += DAY) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) ts.push(t);
  }
  const price = symbols.map(() => new Array<number>(ts.length));
  symbols.forEach((_, s) => {
    let p = 100 + 80 * s;
    for (let i = 0; i < ts.length; i++) {
      p *= 1 + 0.0004 + 0.017 * (rnd() + rnd() + rnd() - 1.5);
      price[s][i] = Math.round(p * 100) / 100;
    }
  });

  const trades: Trade[] = [];
  const fills: FillLike[] = [];
  const orders: OrderLike[] = [];
  let orderId = 0;
  const order = (s: number, side: 'BUY' | 'SELL', i: number, qty: number, px: number, comm: number): void => {
    const id = ++orderId;
    orders.push({
      id,
      symbol: symbols[s],
      side,
      type: 'MKT',
      qty: { kind: 'shares', shares: qty },
      limit: NaN,
      stop: NaN,
      tif: 'DAY',
      status: 'FILLED',
      submittedAt: ts[i - 1],
      filledQty: qty,
      avgFillPrice: px,
      commission: comm,
      reason: '',
    });
    fills.push({
      orderId: id,
      symbol: symbols[s],
      ts: ts[i],
      qty: side === 'BUY' ? qty : -qty,
      price: px,
      commission: comm,
    });
  };

  // holdings per day, built from non-overlapping round trips per symbol
  const held = symbols.map(() => new Array<number>(ts.length).fill(0));
  const costBasis = symbols.map(() => new Array<number>(ts.length).fill(0));
  const realized = new Array<number>(ts.length).fill(0);
  const open: { s: number; qty: number; px: number; i: number }[] = [];
  symbols.forEach((_, s) => {
    let i = 5 + Math.floor(rnd() * 10);
    while (i < ts.length - 2) {
      const hold = 3 + Math.floor(rnd() * 25);
      const entry = i;
      const exit = entry + hold;
      const qty = 50 + Math.floor(rnd() * 8) * 25;
      const pin = price[s][entry];
      const comm = Math.max(1, qty * 0.005);
      order(s, 'BUY', entry, qty, pin, comm);
      if (exit >= ts.length - 1) {
        for (let k = entry; k < ts.length; k++) {
          held[s][k] = qty;
          costBasis[s][k] = pin * qty;
        }
        open.push({ s, qty, px: pin, i: entry });
        break;
      }
      const pout = price[s][exit];
      order(s, 'SELL', exit, qty, pout, comm);
      for (let k = entry; k < exit; k++) {
        held[s][k] = qty;
        costBasis[s][k] = pin * qty;
      }
      const pnl = (pout - pin) * qty - 2 * comm;
      realized[exit] += pnl;
      trades.push({
        symbol: symbols[s],
        side: 'LONG',
        entryTime: ts[entry],
        exitTime: ts[exit],
        entryPrice: pin,
        exitPrice: pout,
        quantity: qty,
        pnl,
        commission: 2 * comm,
        strategy: 'sma-cross',
      });
      i = exit + 2 + Math.floor(rnd() * 12);
    }
  });
  trades.sort((a, b) => a.exitTime - b.exitTime || a.symbol.localeCompare(b.symbol));
  fills.sort((a, b) => a.ts - b.ts || a.orderId - b.orderId);
  orders.sort((a, b) => a.submittedAt - b.submittedAt || a.id - b.id);

  const equity: EquityPoint[] = [];
  const exposure: number[] = [];
  let cumRealized = 0;
  for (let i = 0; i < ts.length; i++) {
    cumRealized += realized[i];
    let mv = 0;
    let basis = 0;
    symbols.forEach((_, s) => {
      mv += held[s][i] * price[s][i];
      basis += costBasis[s][i];
    });
    const cash = cash0 + cumRealized - basis;
    equity.push({ ts: ts[i], equity: cash + mv, cash });
    exposure.push(mv);
  }

  const riskEvents: RiskEvent[] = [
    {
      ts: ts[Math.floor(days / 3)],
      orderId: orderId + 1,
      check: 'maxPositionPct',
      value: 0.071,
      limit: 0.05,
      message: 'order would make AAPL 7.1% of equity (limit 5%)',
    },
    {
      ts: ts[Math.floor((2 * days) / 3)],
      orderId: orderId + 2,
      check: 'maxOrderValue',
      value: 61_250,
      limit: 50_000,
      message: 'order value 61,250 USD exceeds 50,000 USD',
    },
  ];
  orders.push({
    ...orders[0],
    id: orderId + 1,
    status: 'REJECTED',
    submittedAt: ts[Math.floor(days / 3)],
    filledQty: 0,
    avgFillPrice: 0,
    commission: 0,
    type: 'LMT',
    limit: 101.5,
    reason: 'risk: maxPositionPct 0.071 > 0.05',
  });

  const last = ts.length - 1;
  return buildReport({
    version: '0.1.0',
    config: {
      strategy: 'sma-cross',
      params: { fast: 10, slow: 40 },
      symbols,
      interval: '1d',
      start: new Date(ts[0]).toISOString().slice(0, 10),
      end: new Date(ts[last]).toISOString().slice(0, 10),
      startingCash: cash0,
      commission: { model: 'ibkr-fixed' },
      slippage: { model: 'none' },
      seed: opts.seed ?? 7,
    },
    startingCash: cash0,
    equity,
    exposure,
    benchmark: { symbol: symbols[0], ts, close: price[0] },
    trades,
    fills,
    orders,
    riskEvents,
    openPositions: open.map((p) => ({
      symbol: symbols[p.s],
      quantity: p.qty,
      avgCost: p.px,
      lastPrice: price[p.s][last],
      markedAt: ts[last],
    })),
    extraConventions: ['Sample data: synthetic prices from a seeded generator, for previewing the report layout.'],
  });
}
