// The CME Globex session of the equity-index futures (ES, NQ, YM), in America/New_York wall-clock time:
// from Sunday's open to Friday's close, closed every weekday evening for maintenance and for a 15-minute halt
// in the afternoon. CME has changed the hours; each era below is in force from the Sunday open of its date.
// Exchange holidays and early closes are not modelled: isOpen answers for the regular week.

import { addDays, type IsoDate } from '../instruments/iso-date.ts';
import { newYorkClock } from './new-york-time.ts';

export { newYorkClock };

export interface GlobexEra {
  /** the Sunday (ET date) whose evening open starts the era */
  from: IsoDate;
  /** minutes after ET midnight: the daily (and Sunday) open, and the daily (and Friday) close */
  openMin: number;
  closeMin: number;
  /** closed intervals inside the trading day, [start, end) in ET minutes */
  halts: readonly (readonly [number, number])[];
  source: string;
}

const hm = (h: number, m: number) => h * 60 + m;

/**
 * Eras from the CME notices (as reported at the time):
 * - from 2012-11-18 (first trade date 2012-11-19): 18:00 ET to 17:15 ET (16:15 CT), halt 16:15-16:30 ET;
 *   maintenance 17:15-18:00 ET. The sample ES minute files of 2013 show exactly this;
 * - from 2015-09-20 (trade date 2015-09-21): the close moved to 17:00 ET (16:00 CT), the halt stayed; the
 *   2020 sample files show no bar in 17:00-17:59 ET and none in 16:15-16:29 ET.
 * CME later dropped the 16:15-16:30 ET halt; that change is not in this table (add an era with its date).
 */
export const CME_EQUITY_INDEX_ERAS: readonly GlobexEra[] = [
  {
    from: '2012-11-18',
    openMin: hm(18, 0),
    closeMin: hm(17, 15),
    halts: [[hm(16, 15), hm(16, 30)]],
    source: 'CME: CME Globex trading day for equity index products ends at 4:15 p.m. CT from Sunday 2012-11-18; halt 3:15-3:30 p.m. CT',
  },
  {
    from: '2015-09-20',
    openMin: hm(18, 0),
    closeMin: hm(17, 0),
    halts: [[hm(16, 15), hm(16, 30)]],
    source: 'CME: equity index products close at 4:00 p.m. CT from trade date Monday 2015-09-21; halt 3:15-3:30 p.m. CT kept',
  },
];

const MIN = 60_000;

function eraAt(date: IsoDate, eras: readonly GlobexEra[]): GlobexEra {
  let era: GlobexEra | undefined;
  for (const e of eras) if (e.from <= date) era = e;
  if (!era) throw new RangeError(`no CME Globex session rules before ${eras[0]?.from ?? '(empty table)'}: ${date} is outside the table`);
  return era;
}

/** Whether the CME Globex equity-index market is open at an instant (regular week, no holidays). */
export function isOpen(epochMs: number, eras: readonly GlobexEra[] = CME_EQUITY_INDEX_ERAS): boolean {
  const { date, weekday, minute } = newYorkClock(epochMs);
  const era = eraAt(date, eras);
  const halted = era.halts.some(([a, b]) => minute >= a && minute < b);
  const dayPart = minute < era.closeMin && !halted; // the trading day that started the evening before
  const evening = minute >= era.openMin; // the next trading day, from the evening open
  switch (weekday) {
    case 6:
      return false;
    case 0:
      return evening;
    case 5:
      return dayPart;
    default:
      return dayPart || evening;
  }
}

/** The trade date of an instant: from the evening open, the next weekday's date (Sunday 18:00 ET -> Monday). */
export function globexTradeDate(epochMs: number, eras: readonly GlobexEra[] = CME_EQUITY_INDEX_ERAS): IsoDate {
  const { date, weekday, minute } = newYorkClock(epochMs);
  if (minute < eraAt(date, eras).openMin) return date;
  return addDays(date, weekday === 5 ? 3 : weekday === 6 ? 2 : 1);
}

/**
 * Bar starts whose bar is not wholly inside the session: the start or the last millisecond of the bar is
 * closed (a minute bar stamped 17:14 ET covers 17:14:00-17:14:59 and is inside a 17:15 close).
 */
export function barsOutsideSession(starts: Iterable<number>, barMs = MIN, eras: readonly GlobexEra[] = CME_EQUITY_INDEX_ERAS): number[] {
  const out: number[] = [];
  for (const t of starts) if (!isOpen(t, eras) || !isOpen(t + barMs - 1, eras)) out.push(t);
  return out;
}
