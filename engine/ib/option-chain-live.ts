// An underlying's option chain from a live gateway (IB Gateway/TWS, or our simulator), selected as a run's
// `--chain` selects it from the store: the same symbols (compact OCC keys, the store's instruments keys) and the
// same contract terms, so the runner and the backtest code never know where the chain came from.
//
// The requests, as IB documents them for option chains:
//   1. reqContractDetails of the stock (STK SMART, the run's currency): its conId;
//   2. reqSecDefOptParams(symbol, '', 'STK', conId): per exchange and trading class, the expirations and strikes
//      listed (one set each: not every pair of them is a contract);
//   3. reqContractDetails per expiration in the window and trading class on SMART (the right too, when one is
//      asked for): every contract that really exists for that expiration. One request per expiration, not one
//      per (expiration, strike, right): a few requests instead of hundreds, well inside IB's pacing, and no
//      error 200 for the pairs that are not listed.
//
// Selection (what `chainSymbols` in engine/run/run-data.ts does in SQL for the store path): options expiring from
// the first day to `days` calendar days after it, calls or puts or both, then the `strikes` strikes nearest the
// underlying's price among the contracts found (|K - S|, the lower strike first on a tie), every expiry keeping
// all of its contracts at those strikes; ordered by expiry, strike, call before put. The expiry window and the
// right are buildChain's filter (engine/options/chain.ts: maxDays from the New York date of the first day); the
// strike ranking is chainSymbols' own (ranked over the union of the window's strikes, where buildChain's
// `strikes` ranks per expiry): `nearestStrikes` in chain.ts, for both.
//
// What the store path checks that a gateway cannot: that the option has quote bars in the run's dates. A gateway
// lists what is tradeable now; a contract without quotes simply has no bars yet.
import type { ContractDetails, IBApi } from '@stoqey/ib';
import { EventName, OptionType, SecType } from '@stoqey/ib';
import type { ContractTerms } from '../core/types.ts';
import { type OptionInstrument, option } from '../instruments/instrument.ts';
import { isIsoDate, type IsoDate } from '../instruments/iso-date.ts';
import { parseOccSymbol } from '../instruments/local-symbol.ts';
import { buildChain, chainEntries, nearestStrikes, type OptionQuote } from '../options/chain.ts';
import { optionStoreSymbol } from '../options/chain-store.ts';
import { stockContract } from './contracts.ts';

/** Which options of an underlying a run takes (the fields of run-data.ts's ChainSelection). */
export interface LiveChainSelection {
  underlying: string;
  /** options expiring within this many days of the first day (default 30) */
  days?: number;
  /** the strikes nearest the underlying's price (default 10) */
  strikes?: number;
  /** calls or puts only (default both) */
  right?: 'C' | 'P';
}

export interface DiscoverChainOptions {
  /** the session's first day (New York), YYYY-MM-DD: the expiry window starts there */
  firstDay: IsoDate;
  /** the underlying's price the strikes are placed around */
  spot: number;
  /** how long each request may wait for its answer (default 15 s) */
  timeoutMs?: number;
  /** the first request id used (default 500,000: clear of the feed's and broker's ids on a shared connection) */
  firstReqId?: number;
}

/** The chain found: the symbols in selection order and their terms, as openRunData gives them for `--chain`. */
export interface LiveChain {
  symbols: string[];
  contracts: Record<string, ContractTerms>;
  /** the stock's conId at the gateway */
  underlyingConId: number;
}

/** A chain the gateway could not give: names the underlying, the request and IB's answer, and what to do. */
export class ChainDiscoveryError extends Error {
  override name = 'ChainDiscoveryError';
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DAY_MS = 86_400_000;

/**
 * The options of `sel.underlying` the gateway lists, selected as the store path selects them (see the top of the
 * file). Throws a ChainDiscoveryError when the gateway does not know the stock (error 200), refuses a request
 * (321 and the other errors), does not answer in time, or lists no option in the window.
 */
export async function discoverChain(api: IBApi, sel: LiveChainSelection, o: DiscoverChainOptions): Promise<LiveChain> {
  const und = sel.underlying.trim().toUpperCase();
  const days = sel.days ?? 30;
  const strikes = sel.strikes ?? 10;
  if (!isIsoDate(o.firstDay)) throw new RangeError(`--chain ${und}: firstDay must be a date YYYY-MM-DD, got '${o.firstDay}'`);
  if (!(Number.isFinite(o.spot) && o.spot > 0)) throw new RangeError(`--chain ${und}: the underlying's price ${o.spot} must be a finite price above 0`);
  const req = new Requests(api, und, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.firstReqId ?? 500_000);

  const stock = stockContract(und);
  const stocks = await req.contractDetails(stock, `reqContractDetails STK ${und} SMART USD`);
  const underlyingConId = stocks[0]?.contract.conId ?? 0;
  if (!(underlyingConId > 0)) throw new ChainDiscoveryError(`--chain ${und}: the gateway's contract details of the stock ${und} carry no conId`);

  const params = (await req.secDefOptParams(und, underlyingConId)).filter((p) => p.exchange === 'SMART');
  if (params.length === 0) {
    throw new ChainDiscoveryError(
      `--chain ${und}: reqSecDefOptParams ${und} (conId ${underlyingConId}) lists no option chain on SMART: the gateway has no options of ${und} (at IB: check the symbol and the account's option permissions; a simulator lists options only when it is given them)`,
    );
  }
  const from = o.firstDay.replaceAll('-', '');
  const to = new Date(Date.parse(`${o.firstDay}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
  const details: ContractDetails[] = [];
  for (const p of params) {
    for (const e of p.expirations.filter((x) => x.slice(0, 8) >= from && x.slice(0, 8) <= to)) {
      const contract = {
        symbol: und,
        secType: SecType.OPT,
        exchange: 'SMART',
        currency: stock.currency,
        lastTradeDateOrContractMonth: e,
        tradingClass: p.tradingClass,
        ...(sel.right ? { right: sel.right === 'C' ? OptionType.Call : OptionType.Put } : {}),
      };
      const what = `reqContractDetails OPT ${und} ${e}${sel.right ? ` ${sel.right}` : ''} (trading class ${p.tradingClass})`;
      details.push(...(await req.contractDetails(contract, what)));
    }
  }

  const seen = new Set<string>();
  const quotes: OptionQuote[] = [];
  // noon UTC of the first day is that same date in New York: buildChain's window starts on the first day
  const at = Date.parse(`${o.firstDay}T12:00:00Z`);
  for (const d of details) {
    const contract = optionOf(und, d);
    const symbol = optionStoreSymbol(contract);
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    quotes.push({ symbol, contract, bid: null, ask: null, bidSize: 0, askSize: 0, time: at });
  }
  const inWindow = quotes.length > 0 ? chainEntries(buildChain(quotes, o.spot, at, { maxDays: days, ...(sel.right ? { right: sel.right } : {}) })) : [];
  if (inWindow.length === 0) {
    throw new ChainDiscoveryError(
      `--chain ${und}: the gateway lists no ${sel.right ? `${sel.right} ` : ''}options of ${und} expiring ${o.firstDay} .. ${days} days later (expirations listed: ${params
        .flatMap((p) => p.expirations)
        .slice(0, 12)
        .join(', ')}): widen --chain-days`,
    );
  }
  const keep = new Set(
    nearestStrikes(
      inWindow.map((e) => e.contract.strike),
      o.spot,
      strikes,
    ),
  );
  const chosen = inWindow.filter((e) => keep.has(e.contract.strike));
  const contracts: Record<string, ContractTerms> = {};
  for (const e of chosen) contracts[e.symbol] = termsOf(e.contract);
  return { symbols: chosen.map((e) => e.symbol), contracts, underlyingConId };
}

/** The contract terms of an option, as openRunData's contractsOf writes them from the instruments table. */
export function termsOf(c: OptionInstrument): ContractTerms {
  return { secType: 'OPT', multiplier: c.multiplier, currency: c.currency, expiry: c.expiry, strike: c.strike, right: c.right, underlying: c.underlying };
}

/**
 * The option instrument of IB's contract details: the last trading day from lastTradeDateOrContractMonth, the OCC
 * date from realExpirationDate (kept only when it differs: a Saturday monthly), the OCC root from IB's local
 * symbol (its trading class when that does not parse), the multiplier and tick as IB lists them.
 */
export function optionOf(underlying: string, d: ContractDetails): OptionInstrument {
  const k = d.contract;
  const where = `--chain ${underlying}: contract details of conId ${k.conId} (${k.localSymbol ?? '?'})`;
  const iso = (s: string | undefined) => (s && /^\d{8}/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}` : undefined);
  const expiry = iso(k.lastTradeDateOrContractMonth);
  const r = String(k.right ?? '').toUpperCase();
  const right = r === 'C' || r === 'CALL' ? 'C' : r === 'P' || r === 'PUT' ? 'P' : undefined;
  if (!expiry || !right || !(Number(k.strike) > 0)) {
    throw new ChainDiscoveryError(
      `${where}: expected an option with a last trading day, a strike and a right, got ${k.lastTradeDateOrContractMonth} ${k.strike} ${k.right}`,
    );
  }
  const occ = iso(d.realExpirationDate);
  let root = k.tradingClass || underlying;
  try {
    if (k.localSymbol) root = parseOccSymbol(k.localSymbol.replaceAll(' ', '')).root;
  } catch {
    // not an OCC local symbol: the trading class is the root
  }
  try {
    return option({
      symbol: root,
      underlying,
      expiry,
      ...(occ && occ !== expiry ? { occExpiry: occ } : {}),
      strike: Number(k.strike),
      right,
      exchange: k.exchange || 'SMART',
      currency: k.currency || 'USD',
      multiplier: Number(k.multiplier) || 1,
      tickSize: d.minTick && d.minTick > 0 ? d.minTick : 0.01,
    });
  } catch (e) {
    throw new ChainDiscoveryError(`${where}: ${(e as Error).message}`);
  }
}

/** Tick types of a snapshot's prices: last (4, delayed 68), close (9, delayed 75), bid (1, 66), ask (2, 67). */
const LAST_TICKS = new Set([4, 68]);
const CLOSE_TICKS = new Set([9, 75]);
const BID_TICKS = new Set([1, 66]);
const ASK_TICKS = new Set([2, 67]);

/**
 * The underlying's price now, from a market data snapshot of the stock (reqMktData snapshot): its last trade,
 * else the mid of its bid and ask, else its previous close. For a session whose store has no bars of the
 * underlying to place the strikes around. Throws a ChainDiscoveryError naming the stock when the gateway gives
 * no price (outside market data permissions, or a simulator before its replay) or does not answer in time.
 */
export async function snapshotPrice(api: IBApi, underlying: string, o: { timeoutMs?: number; reqId?: number } = {}): Promise<number> {
  const und = underlying.trim().toUpperCase();
  const reqId = o.reqId ?? 499_999;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const seen = new Map<string, number>();
  const events = api as unknown as Emitter;
  const what = `reqMktData snapshot STK ${und}`;
  return new Promise<number>((resolve, reject) => {
    const onPrice = (id: number, field: number, value: number) => {
      if (id !== reqId || !(Number.isFinite(value) && value > 0)) return;
      const kind = LAST_TICKS.has(field) ? 'last' : CLOSE_TICKS.has(field) ? 'close' : BID_TICKS.has(field) ? 'bid' : ASK_TICKS.has(field) ? 'ask' : null;
      if (kind) seen.set(kind, value);
    };
    const finish = (err?: Error) => {
      clearTimeout(timer);
      events.off(EventName.tickPrice, onPrice);
      events.off(EventName.tickSnapshotEnd, onEnd);
      events.off(EventName.error, onError);
      if (err) return reject(err);
      const bid = seen.get('bid');
      const ask = seen.get('ask');
      const price = seen.get('last') ?? (bid !== undefined && ask !== undefined && bid <= ask ? (bid + ask) / 2 : seen.get('close'));
      if (price === undefined) {
        return reject(
          new ChainDiscoveryError(
            `--chain ${und}: ${what}: the gateway gave no price of ${und} to place the strikes around (no market data for it now): give --data with ${und}'s bars in the session's dates`,
          ),
        );
      }
      resolve(price);
    };
    const onEnd = (id: number) => id === reqId && finish();
    const onError = (err: Error, code: number, id: number) => {
      if (id !== reqId) return;
      finish(new ChainDiscoveryError(`--chain ${und}: ${what}: IB error ${code}: ${err?.message ?? ''}`));
    };
    const timer = setTimeout(
      () => finish(new ChainDiscoveryError(`--chain ${und}: ${what}: no answer from the gateway within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    events.on(EventName.tickPrice, onPrice);
    events.on(EventName.tickSnapshotEnd, onEnd);
    events.on(EventName.error, onError);
    api.reqMktData(reqId, stockContract(und), '', true, false);
  });
}

/** One chain parameter set (securityDefinitionOptionParameter). */
interface SecDefParams {
  exchange: string;
  tradingClass: string;
  multiplier: string;
  expirations: string[];
  strikes: number[];
}

/** Any event listener: IBApi's event methods without their per-event overloads. */
type Listener = (...args: never[]) => void;

interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** IB's requests of a discovery, each answered by its end message, an error for its id, or a time-out. */
class Requests {
  constructor(
    private readonly api: IBApi,
    private readonly underlying: string,
    private readonly timeoutMs: number,
    private nextId: number,
  ) {}

  contractDetails(contract: Parameters<IBApi['reqContractDetails']>[1], what: string): Promise<ContractDetails[]> {
    const got: ContractDetails[] = [];
    return this.ask(
      what,
      EventName.contractDetailsEnd,
      (reqId, on) => {
        on(EventName.contractDetails, (id: number, d: ContractDetails) => id === reqId && got.push(d));
        this.api.reqContractDetails(reqId, contract);
      },
      () => got,
    );
  }

  secDefOptParams(symbol: string, conId: number): Promise<SecDefParams[]> {
    const got: SecDefParams[] = [];
    return this.ask(
      `reqSecDefOptParams ${symbol} STK conId ${conId}`,
      EventName.securityDefinitionOptionParameterEnd,
      (reqId, on) => {
        on(
          EventName.securityDefinitionOptionParameter,
          (id: number, exchange: string, _conId: number, tradingClass: string, multiplier: string, expirations: string[], strikes: number[]) => {
            if (id === reqId) got.push({ exchange, tradingClass, multiplier: String(multiplier), expirations: [...expirations], strikes: [...strikes] });
          },
        );
        this.api.reqSecDefOptParams(reqId, symbol, '', SecType.STK, conId);
      },
      () => got,
    );
  }

  private ask<T>(what: string, end: EventName, send: (reqId: number, on: (e: EventName, f: Listener) => void) => void, result: () => T): Promise<T> {
    const reqId = this.nextId++;
    const events = this.api as unknown as Emitter;
    const listeners: [EventName, Listener][] = [];
    const on = (e: EventName, f: Listener) => {
      listeners.push([e, f]);
      events.on(e, f);
    };
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        for (const [e, f] of listeners) events.off(e, f);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new ChainDiscoveryError(
            `--chain ${this.underlying}: ${what}: no answer from the gateway within ${this.timeoutMs / 1000} s (is it connected to IB's servers, with market data permissions for ${this.underlying}?)`,
          ),
        );
      }, this.timeoutMs);
      on(end, (id: number) => {
        if (id !== reqId) return;
        done();
        resolve(result());
      });
      on(EventName.error, (err: Error, code: number, id: number) => {
        if (id !== reqId) return;
        done();
        const why =
          code === 200
            ? `IB error 200 (no security definition): the gateway knows no such contract; check the symbol ${this.underlying}`
            : code === 321
              ? `IB error 321 (the request did not validate): ${err?.message ?? ''}`
              : `IB error ${code}: ${err?.message ?? ''}`;
        reject(new ChainDiscoveryError(`--chain ${this.underlying}: ${what}: ${why}`));
      });
      send(reqId, on);
    });
  }
}
