// Streaming indicators, one file each, all implementing `Indicator` (indicator.ts).
// Every mean over a window (SMA, rolling std, the EMA/RSI/ATR seeds) is the true mean rounded once, and
// the rolling std's sum of squared deviations the true sum rounded once (../exact-sum.ts): neither depends
// on the order of the values nor on earlier bars.
export { ATR } from './atr.ts';
export { EMA } from './ema.ts';
export { type BarIndicator, checkPeriod, type Indicator, type PriceIndicator } from './indicator.ts';
export { Highest, Lowest, RollingExtreme } from './rolling-extreme.ts';
export { RollingStd } from './rolling-std.ts';
export { RSI } from './rsi.ts';
export { SMA } from './sma.ts';
