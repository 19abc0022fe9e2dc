// Market data out: each batch as real-time bars, ticks (last, bid, ask, day volume, last timestamp)
// and keep-up-to-date historical bars, to the connections that subscribed.
import { ExchangeCalendar } from '../../core/calendar.ts';
import type { BarSeries } from '../../core/types.ts';
import { TICK } from '../protocol/ids.ts';
import * as msg from '../protocol/messages.ts';
import type { ClientConnection, HistUpdateSub } from './connection.ts';
import { barSizeMs, history } from './historical.ts';
import type { Batch, SubBar } from './replay.ts';

const DAY = 86_400_000;

/** One side of a quoted sub-bar as a bar (IB's BID or ASK real-time bars: volume -1), or null without a quote on that side. */
function sideBar(bar: SubBar, side: 'BID' | 'ASK'): { open: number; high: number; low: number; close: number; volume: number } | null {
  const q = bar.quote!;
  const b =
    side === 'BID'
      ? { open: q.bidOpen, high: q.bidHigh, low: q.bidLow, close: q.bidClose, volume: -1 }
      : { open: q.askOpen, high: q.askHigh, low: q.askLow, close: q.askClose, volume: -1 };
  return Number.isNaN(b.open) || Number.isNaN(b.close) ? null : b;
}

export class MarketDataFeed {
  private readonly cal: ExchangeCalendar;
  /** per symbol: the volume replayed so far on `volumeDay` (the exchange day) */
  readonly dayVolume: Float64Array;
  readonly volumeDay: Float64Array;

  constructor(
    private readonly series: readonly BarSeries[],
    private readonly intervalMs: number,
    private readonly tz: string,
  ) {
    this.cal = new ExchangeCalendar(intervalMs >= DAY ? 'UTC' : tz);
    this.dayVolume = new Float64Array(series.length);
    this.volumeDay = new Float64Array(series.length).fill(NaN);
  }

  /** The ticks of one price update; bar data has no quotes, so bid and ask are the last price. */
  ticks(conn: ClientConnection, reqId: number, sid: number, price: number, size: number, epochSec: number): void {
    const delayed = conn.marketDataType >= 3;
    conn.send(msg.tickPrice(reqId, delayed ? TICK.DELAYED_LAST : TICK.LAST, price, size));
    conn.send(msg.tickPrice(reqId, delayed ? TICK.DELAYED_BID : TICK.BID, price, 0));
    conn.send(msg.tickPrice(reqId, delayed ? TICK.DELAYED_ASK : TICK.ASK, price, 0));
    conn.send(msg.tickSize(reqId, delayed ? TICK.DELAYED_VOLUME : TICK.VOLUME, this.dayVolume[sid]));
    conn.send(msg.tickString(reqId, delayed ? TICK.DELAYED_LAST_TIMESTAMP : TICK.LAST_TIMESTAMP, String(epochSec)));
  }

  /** One batch to every subscriber, in the series' symbol order. */
  publish(batch: Batch, conns: readonly ClientConnection[]): void {
    const endSec = Math.floor(batch.end / 1000);
    for (const bar of batch.bars) {
      this.countVolume(bar);
      const rth = this.inRth(bar.ts);
      for (const c of conns) {
        for (const [reqId, sub] of c.rtBars) {
          if (sub.sid !== bar.sid || (sub.useRTH && !rth)) continue;
          const b = sub.side && bar.quote ? sideBar(bar, sub.side) : bar;
          // a side with no quote in this bar sends no bar (IB sends none while nothing is quoted)
          if (b === null) continue;
          c.send(
            msg.realtimeBar(reqId, Math.floor(bar.ts / 1000), {
              open: b.open,
              high: b.high,
              low: b.low,
              close: b.close,
              volume: b.volume,
              wap: (b.high + b.low + b.close) / 3,
              count: -1,
            }),
          );
        }
        for (const [reqId, sub] of c.mktData) if (sub.sid === bar.sid) this.ticks(c, reqId, bar.sid, bar.close, bar.volume, endSec);
        if (bar.last) for (const [reqId, sub] of c.histUpdates) if (sub.sid === bar.sid && (rth || !sub.useRTH)) this.historicalUpdate(c, reqId, sub, bar);
      }
    }
  }

  /** keepUpToDate: the bar (of the request's size) that the stored bar just completed belongs to. */
  private historicalUpdate(c: ClientConnection, reqId: number, sub: HistUpdateSub, bar: SubBar): void {
    const size = barSizeMs(sub.barSize);
    const duration = size >= DAY ? '1 D' : `${Math.ceil(size / 1000)} S`;
    const r = history(
      this.series[bar.sid],
      { endDateTime: '', barSize: sub.barSize, duration, useRTH: sub.useRTH, formatDate: sub.formatDate },
      bar.storedTs + this.intervalMs,
      this.tz,
    );
    if (r.ok) c.send(msg.historicalDataUpdate(reqId, -1, r.bars[r.bars.length - 1]));
  }

  private countVolume(bar: SubBar): void {
    const day = this.cal.day(bar.ts);
    if (this.volumeDay[bar.sid] !== day) {
      this.volumeDay[bar.sid] = day;
      this.dayVolume[bar.sid] = 0;
    }
    this.dayVolume[bar.sid] += bar.volume;
  }

  private inRth(ts: number): boolean {
    if (this.intervalMs >= DAY) return true;
    return this.cal.inSession(ts); // 09:30-16:00, 13:00 on US half days
  }
}
