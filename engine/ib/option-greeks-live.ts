// IB's own option greeks, live: reqMktData for the run's options and the last model computation of each
// (tickOptionComputation with tick type MODEL_OPTION, 13, or DELAYED_MODEL_OPTION, 83, under delayed data).
// The bid (10) and ask (11) computations are the implied volatility of each side; the model one prices the
// option at IB's model volatility and is what TWS shows as the option's greeks, so it is the one kept.
//
// Units are IB's, as received: impliedVol a fraction (0.25), delta and gamma per 1 of the underlying, vega per
// volatility point (engine/options: per 1.00), theta per calendar day (engine/options: per year). The simulator
// sends the same units (engine/ib/sim/option-data.ts).
//
// "Not computed": IB sends -1 for impliedVol, optPrice, pvDividend and undPrice, and -2 for delta, gamma, vega
// and theta (@stoqey/ib already turns them into undefined, a client of an older server version may not). Either
// way the field is absent here; -1 is a real delta (a deep put) and is kept. A computation that leaves a field
// absent keeps that field absent (not the previous value): each computation is one consistent set.
import type { IBApi } from '@stoqey/ib';
import { EventName } from '@stoqey/ib';
import type { ContractTerms } from '../core/types.ts';
import { ibContract } from './contracts.ts';
import { OPTION_TICK } from './protocol/ids.ts';

/** One model computation of an option, in IB's units (see the top of the file); a field IB did not compute is absent. */
export interface IbOptionGreeks {
  impliedVol?: number;
  delta?: number;
  gamma?: number;
  vega?: number;
  theta?: number;
  /** the option price the model computed the greeks at */
  optPrice?: number;
  /** the underlying's price the computation used */
  undPrice?: number;
}

/** Where an option book reads external greeks: the last ones per run symbol, undefined while none came. */
export interface GreeksSource {
  greeks(symbol: string): IbOptionGreeks | undefined;
}

/** Request ids of the subscriptions: GREEKS_BASE + the option's index in subscribe()'s list (clear of IbFeed's 7,000 / 200,000 / 300,000 and IbBroker's 60,000 ranges). */
export const GREEKS_BASE = 400_000;

const MODEL_TYPES: ReadonlySet<number> = new Set([OPTION_TICK.MODEL_OPTION, OPTION_TICK.DELAYED_MODEL_OPTION]);

/** A computation's value, or undefined for IB's "not computed" marker (`marker`: -1 or -2) and for anything not a finite number. */
function computed(v: number | undefined, marker: -1 | -2): number | undefined {
  return v === undefined || v === null || !Number.isFinite(v) || v === marker ? undefined : v;
}

/** The fields of one tickOptionComputation, "not computed" markers left out. */
export function readComputation(
  impliedVol?: number,
  delta?: number,
  optPrice?: number,
  gamma?: number,
  vega?: number,
  theta?: number,
  undPrice?: number,
): IbOptionGreeks {
  const out: IbOptionGreeks = {};
  const set = (k: keyof IbOptionGreeks, v: number | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('impliedVol', computed(impliedVol, -1));
  set('delta', computed(delta, -2));
  set('gamma', computed(gamma, -2));
  set('vega', computed(vega, -2));
  set('theta', computed(theta, -2));
  set('optPrice', computed(optPrice, -1));
  set('undPrice', computed(undPrice, -1));
  return out;
}

/**
 * The run's options' market data subscriptions and their last model computations. Subscribe once connected (and
 * again after a reconnect that lost the data: resubscribe()); read with greeks(symbol) at any time.
 */
export class LiveOptionGreeks implements GreeksSource {
  private readonly last = new Map<string, IbOptionGreeks>();
  private symbols: string[] = [];
  private contracts: ContractTerms[] = [];
  /** computations received (model ones), for tests and status lines */
  received = 0;
  private readonly onComputation = (reqId: number, field: number, _attrib: unknown, ...v: (number | undefined)[]) => {
    const k = reqId - GREEKS_BASE;
    if (k < 0 || k >= this.symbols.length || !MODEL_TYPES.has(field)) return;
    const [impliedVol, delta, optPrice, , gamma, vega, theta, undPrice] = v;
    this.last.set(this.symbols[k]!, readComputation(impliedVol, delta, optPrice, gamma, vega, theta, undPrice));
    this.received++;
  };

  constructor(private readonly api: IBApi) {
    api.on(EventName.tickOptionComputation, this.onComputation as never);
  }

  /** Subscribes the options among `contracts` (terms by run symbol; others are skipped) with reqMktData. */
  subscribe(contracts: Readonly<Record<string, ContractTerms>>): void {
    this.cancel();
    this.symbols = Object.keys(contracts).filter((s) => contracts[s]!.secType === 'OPT');
    this.contracts = this.symbols.map((s) => contracts[s]!);
    this.resubscribe();
  }

  /** Asks for every subscription again (after a reconnect that lost the market data); the last computations stay. */
  resubscribe(): void {
    this.symbols.forEach((s, k) => this.api.reqMktData(GREEKS_BASE + k, ibContract(s, this.contracts[k]), '', false, false));
  }

  /** The last model computation of an option (undefined: none yet, or not subscribed). */
  greeks(symbol: string): IbOptionGreeks | undefined {
    return this.last.get(symbol);
  }

  /** Cancels the subscriptions (the computations received stay readable). */
  cancel(): void {
    this.symbols.forEach((_, k) => this.api.cancelMktData(GREEKS_BASE + k));
    this.symbols = [];
    this.contracts = [];
  }

  /** Cancels and stops listening. */
  stop(): void {
    this.cancel();
    this.api.off(EventName.tickOptionComputation, this.onComputation as never);
  }
}
