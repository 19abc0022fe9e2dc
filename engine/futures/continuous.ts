// Continuous futures for research: which real contract is held on each date (the roll schedule, as data),
// and one price series stitched from the held contracts, back-adjusted or not.
//
// Roll rules, all decided on daily bars with nothing from the future:
// - 'volume': roll at the close of the first date on which the next contract's daily volume exceeds the
//   held contract's (both must have a bar that date);
// - 'open-interest': the same with open interest (both must have an OI row that date);
// - 'days-before-expiry' N: roll at the close of the first date at most N calendar days before the held
//   contract's last trading day (N = 8 rolls ES on the Thursday a week before expiry, CME's roll date).
// Whatever the rule, a contract is never held past its last trading day: reached without a roll, the roll
// happens at that day's close (reason 'expiry'). A roll needs both contracts' closes on its date (they are
// the prices the back-adjustment uses); a rule that fires on a date without both waits for the next date
// that has them. "Next contract" = the next contract month in the data, limited to `cycle` when given (GC:
// the even months, so a roll skips the thin serial months). On the first date the nearest unexpired
// contract is held. One roll at most per date.
//
// The held contract on date D is the one whose bar D is (rolls happen at the close): trading is always in
// a real contract month, never in the adjusted series.

import { daysBetween, type IsoDate } from '../instruments/iso-date.ts';

/** A daily bar of one contract (FuturesTradeRow from lean-futures.ts is one). */
export interface ContractBar {
  date: IsoDate;
  /** 'YYYYMM' */
  contractMonth: string;
  /** last trading day */
  expiry: IsoDate;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface ContractOpenInterest {
  date: IsoDate;
  contractMonth: string;
  openInterest: number;
}

export type RollRule = { kind: 'volume' } | { kind: 'open-interest' } | { kind: 'days-before-expiry'; days: number };

export type Adjustment = 'none' | 'difference' | 'ratio';

export interface Roll {
  /** the date at whose close the position moves: bars up to it are `from`'s, after it `to`'s */
  date: IsoDate;
  from: string;
  to: string;
  /** the two contracts' closes on `date` */
  fromPrice: number;
  toPrice: number;
  reason: 'volume' | 'open-interest' | 'days-before-expiry' | 'expiry';
  /** what decided it, e.g. 'volume 868208 (201403) > 347764 (201312)' */
  detail: string;
}

export interface RollSchedule {
  rule: RollRule;
  /** the contract held on the first date */
  first: string;
  rolls: Roll[];
}

export interface ContinuousBar {
  date: IsoDate;
  /** the real contract held on this date */
  contractMonth: string;
  expiry: IsoDate;
  /** prices after adjustment (equal to raw* with adjustment 'none') */
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  rawOpen: number;
  rawHigh: number;
  rawLow: number;
  rawClose: number;
}

export interface ScheduleOptions {
  /** open interest rows, required by the 'open-interest' rule */
  openInterest?: readonly ContractOpenInterest[];
  /** contract months (1-12) that may be held, e.g. [3, 6, 9, 12]; default every month in the data */
  cycle?: readonly number[];
  /** first and last date (inclusive) to cover */
  from?: IsoDate;
  to?: IsoDate;
}

export class RollError extends Error {
  override name = 'RollError';
}

/** The roll schedule of a set of daily bars under a rule. */
export function rollSchedule(bars: readonly ContractBar[], rule: RollRule, opts: ScheduleOptions = {}): RollSchedule {
  if (rule.kind === 'days-before-expiry' && !(Number.isInteger(rule.days) && rule.days >= 0)) {
    throw new RollError(`days-before-expiry: days must be a whole number >= 0, got ${rule.days}`);
  }
  if (rule.kind === 'open-interest' && !opts.openInterest) throw new RollError("the 'open-interest' rule needs open interest rows (opts.openInterest)");
  const { dates, bar, contracts, expiry } = index(bars, opts);
  const oi = new Map<string, number>();
  for (const r of opts.openInterest ?? []) oi.set(`${r.date}|${r.contractMonth}`, r.openInterest);

  const first = contracts.find((c) => expiry.get(c)! >= dates[0]!);
  if (first === undefined) throw new RollError(`every contract in the data expired before ${dates[0]}`);
  let held: string = first;
  const schedule: RollSchedule = { rule, first: held, rolls: [] };
  let fired: { reason: Roll['reason']; detail: string } | null = null;
  for (const d of dates) {
    if (expiry.get(held)! < d) {
      throw new RollError(
        `contract ${held} expired on ${expiry.get(held)} and the data's next date is ${d}: no roll could be seen in between ` +
          `(a gap in the data); cover a range without the gap (opts.to / opts.from)`,
      );
    }
    const next: string | undefined = contracts[contracts.indexOf(held) + 1];
    if (next === undefined) continue;
    const h = bar.get(`${d}|${held}`);
    const n = bar.get(`${d}|${next}`);
    if (!fired) {
      if (rule.kind === 'volume' && h && n && n.volume > h.volume) {
        fired = { reason: 'volume', detail: `volume ${n.volume} (${next}) > ${h.volume} (${held})` };
      } else if (rule.kind === 'open-interest') {
        const ho = oi.get(`${d}|${held}`);
        const no = oi.get(`${d}|${next}`);
        if (ho !== undefined && no !== undefined && no > ho) fired = { reason: 'open-interest', detail: `open interest ${no} (${next}) > ${ho} (${held})` };
      } else if (rule.kind === 'days-before-expiry' && daysBetween(d, expiry.get(held)!) <= rule.days) {
        fired = {
          reason: 'days-before-expiry',
          detail: `${daysBetween(d, expiry.get(held)!)} days before ${held}'s last trading day ${expiry.get(held)} (rule: ${rule.days})`,
        };
      }
      if (!fired && d === expiry.get(held)) fired = { reason: 'expiry', detail: `last trading day of ${held}` };
    }
    if (fired && h && n) {
      schedule.rolls.push({ date: d, from: held, to: next, fromPrice: h.close, toPrice: n.close, ...fired });
      held = next;
      fired = null;
    }
  }
  return schedule;
}

/** The real contract held during a date's session (a roll moves the position at its date's close). */
export function contractFor(schedule: RollSchedule, date: IsoDate): string {
  let held = schedule.first;
  for (const r of schedule.rolls) {
    if (r.date < date) held = r.to;
    else break;
  }
  return held;
}

/**
 * The continuous series: each date's bar of the contract held that date, back-adjusted so the latest
 * contract keeps its real prices. 'difference' adds, to every bar before a roll, toPrice - fromPrice of that
 * roll and of every later one; 'ratio' multiplies by toPrice / fromPrice the same way (keeps returns, not
 * point moves); 'none' leaves the jumps at the rolls. Dates on which the held contract has no bar are left out.
 */
export function continuousSeries(
  bars: readonly ContractBar[],
  schedule: RollSchedule,
  adjustment: Adjustment,
  opts: Pick<ScheduleOptions, 'from' | 'to'> = {},
): ContinuousBar[] {
  const { dates, bar } = index(bars, { ...opts, cycle: undefined });
  const n = schedule.rolls.length;
  const out: ContinuousBar[] = [];
  let seg = 0;
  let held = schedule.first;
  for (const d of dates) {
    while (seg < n && schedule.rolls[seg]!.date < d) held = schedule.rolls[seg++]!.to;
    const b = bar.get(`${d}|${held}`);
    if (!b) continue;
    const adj = (p: number) => adjustPrice(schedule, seg, adjustment, p);
    out.push({
      date: d,
      contractMonth: held,
      expiry: b.expiry,
      open: adj(b.open),
      high: adj(b.high),
      low: adj(b.low),
      close: adj(b.close),
      volume: b.volume,
      rawOpen: b.open,
      rawHigh: b.high,
      rawLow: b.low,
      rawClose: b.close,
    });
  }
  return out;
}

/** Adjusted prices of roll k's two closes: equal (up to rounding for 'ratio') unless the adjustment is 'none'. */
export function adjustedAtRoll(schedule: RollSchedule, k: number, adjustment: Adjustment): { from: number; to: number } {
  const r = schedule.rolls[k]!;
  return { from: adjustPrice(schedule, k, adjustment, r.fromPrice), to: adjustPrice(schedule, k + 1, adjustment, r.toPrice) };
}

/**
 * A raw price of segment `seg` (the bars before roll `seg`; seg = rolls.length is the latest contract's)
 * adjusted by the rolls seg, seg + 1, ...: their differences added, or their ratios multiplied.
 */
export function adjustPrice(schedule: RollSchedule, seg: number, adjustment: Adjustment, price: number): number {
  const { add, mul } = segmentAdjustments(schedule);
  return adjustment === 'difference' ? price + add[seg]! : adjustment === 'ratio' ? price * mul[seg]! : price;
}

const adjustmentCache = new WeakMap<RollSchedule, { n: number; add: Float64Array; mul: Float64Array }>();
function segmentAdjustments(schedule: RollSchedule): { add: Float64Array; mul: Float64Array } {
  const n = schedule.rolls.length;
  const hit = adjustmentCache.get(schedule);
  if (hit && hit.n === n) return hit;
  const add = new Float64Array(n + 1);
  const mul = new Float64Array(n + 1).fill(1);
  for (let k = n - 1; k >= 0; k--) {
    const r = schedule.rolls[k]!;
    add[k] = add[k + 1]! + (r.toPrice - r.fromPrice);
    mul[k] = mul[k + 1]! * (r.toPrice / r.fromPrice);
  }
  const out = { n, add, mul };
  adjustmentCache.set(schedule, out);
  return out;
}

function index(bars: readonly ContractBar[], opts: ScheduleOptions) {
  const bar = new Map<string, ContractBar>();
  const expiry = new Map<string, IsoDate>();
  const dateSet = new Set<IsoDate>();
  for (const b of bars) {
    if (opts.from !== undefined && b.date < opts.from) continue;
    if (opts.to !== undefined && b.date > opts.to) continue;
    const month = Number(b.contractMonth.slice(4, 6));
    if (opts.cycle && !opts.cycle.includes(month)) continue;
    const key = `${b.date}|${b.contractMonth}`;
    if (bar.has(key)) throw new RollError(`two bars for contract ${b.contractMonth} on ${b.date}`);
    const e = expiry.get(b.contractMonth);
    if (e !== undefined && e !== b.expiry) throw new RollError(`contract ${b.contractMonth} has two expiries: ${e} and ${b.expiry} (on ${b.date})`);
    if (b.date > b.expiry) throw new RollError(`contract ${b.contractMonth} has a bar on ${b.date}, after its last trading day ${b.expiry}`);
    bar.set(key, b);
    expiry.set(b.contractMonth, b.expiry);
    dateSet.add(b.date);
  }
  if (dateSet.size === 0) throw new RollError(`no bars${opts.from || opts.to ? ` between ${opts.from ?? 'the start'} and ${opts.to ?? 'the end'}` : ''}`);
  return { dates: [...dateSet].sort(), bar, contracts: [...expiry.keys()].sort(), expiry };
}
