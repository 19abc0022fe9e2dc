// Which bars of a run its model was trained on. A backtest or sweep of a model strategy over the model's
// training window measures how well the model remembers its training data, not how well it predicts:
// the bundled gbt-daily has a Sharpe of about 1.6 over 1998-2021 and about 0.75 from 2016, after training.
// The run still goes ahead over the range asked for; the CLIs warn on stderr and the report carries this.
import type { ReportInSample } from '../report/report-types.ts';
import type { ModelCard } from './model-card.ts';
import { isoDate } from '../core/dates.ts';
import { lowerBound } from '../core/search.ts';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A run's overlap with its model's training window: report.json's `inSample` (see ReportInSample). */
export type InSample = ReportInSample;

/** The parts of a bar series the check reads: its times, ascending. */
export interface TimedSeries {
  ts: ArrayLike<number>;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * How much of a run (or sweep) lies in its model's training window: bars whose UTC date is within the
 * card's training.from .. training.to. Undefined when none does, or when the card states no training.to
 * (a model without a training window cannot be checked).
 */
export function inSampleOf(o: {
  strategy: string;
  model: string;
  card: Pick<ModelCard, 'training' | 'label'>;
  series: readonly TimedSeries[];
  scope?: 'run' | 'sweep';
}): InSample | undefined {
  const trainedTo = o.card.training?.to;
  if (typeof trainedTo !== 'string' || !DATE.test(trainedTo)) return undefined;
  const rawFrom = o.card.training?.from;
  const trainedFrom = typeof rawFrom === 'string' && DATE.test(rawFrom) ? rawFrom : null;
  const lo = trainedFrom === null ? -Infinity : Date.parse(`${trainedFrom}T00:00:00Z`);
  const hi = Date.parse(`${trainedTo}T00:00:00Z`) + DAY_MS; // exclusive: the day after training.to
  const horizon = Number.isInteger(o.card.label?.horizon) && o.card.label.horizon > 0 ? o.card.label.horizon : 0;

  let bars = 0;
  let totalBars = 0;
  let first = Infinity;
  let last = -Infinity;
  const after = new Set<number>();
  for (const s of o.series) {
    const n = s.ts.length;
    totalBars += n;
    const a = lowerBound(s.ts, lo);
    const b = lowerBound(s.ts, hi);
    if (b > a) {
      bars += b - a;
      first = Math.min(first, s.ts[a]);
      last = Math.max(last, s.ts[b - 1]);
    }
    // the first horizon + 1 bars after the window: the union's (horizon + 1)-th is among them
    for (let i = b; i < Math.min(n, b + horizon + 1); i++) after.add(s.ts[i]);
  }
  if (bars === 0) return undefined;
  const next = [...after].sort((x, y) => x - y);
  const outOfSampleFrom = next.length > horizon ? isoDate(next[horizon]) : null;
  const from = isoDate(first);
  const to = isoDate(last);
  const scope = o.scope ?? 'run';
  const window = trainedFrom === null ? `up to ${trainedTo}` : `${trainedFrom} .. ${trainedTo}`;
  const advice =
    outOfSampleFrom !== null
      ? `Use --from ${outOfSampleFrom} for an out-of-sample ${scope}.`
      : `The data has no bar after the training window and its ${horizon}-bar label horizon: evaluate the model on later data.`;
  const message =
    `${o.strategy}'s model ${o.model} was trained on bars ${window}; ${fmt(bars)} of the ${fmt(totalBars)} bars of this ${scope} (${from} .. ${to}) ` +
    `are in its training window: results there are in-sample. ${advice}`;
  return { model: o.model, trainedFrom, trainedTo, bars, totalBars, from, to, horizon, outOfSampleFrom, message };
}
