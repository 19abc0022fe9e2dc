import { EventEmitter } from 'node:events';
import { EventName, IBApi } from '@stoqey/ib';
import { CODE, TEXT } from './protocol/ids.ts';

export interface IbConnectionOptions {
  host: string;
  port: number;
  clientId: number;
  /** client-side message pacing (default 40): IB allows 50 messages/s, and @stoqey/ib paces in 100 ms slices, so 45 would reach 50 */
  maxReqPerSec?: number;
  /** reconnect backoff: first wait and ceiling */
  backoffMs?: { initial: number; max: number };
  log?: (message: string) => void;
}

/** how long a connected socket may wait for the gateway's first order id before we try again */
const HANDSHAKE_MS = 10_000;

/** IB codes that come as errors but are confirmations, not faults: not counted in `errorsByCode` (202: order cancelled) */
const NOT_FAULTS = new Set([202]);

/**
 * One API connection to IB Gateway/TWS through @stoqey/ib, kept alive: it reconnects with
 * exponential backoff after a drop or a gateway restart (a normal state, not an error), and emits
 * 'ready' after every (re)connection once IB has sent nextValidId; 'dataLost' after 1101 (the
 * subscriptions must be re-requested), 'lost' on 1100, 'restored' on 1102, 'replayEnded' on the
 * simulator's notice 2900 (`npm run ib-sim`'s replay is over; a real gateway never sends it).
 * Order ids come only from nextValidId.
 */
export class IbConnection extends EventEmitter {
  readonly api: IBApi;
  private nextId = -1;
  private stopped = false;
  private wait: number;
  private timer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private connects = 0;
  ready = false;
  /** wall time (epoch ms) of the last message received from the gateway; null before the first */
  lastInboundAt: number | null = null;
  /** IB error codes received (order-cancel confirmations aside), with how many times */
  readonly errorsByCode = new Map<number, number>();
  /** wall times (performance.now) of the messages written to the socket within the last second */
  private sentTimes: number[] = [];

  constructor(private readonly o: IbConnectionOptions) {
    super();
    if (!Number.isInteger(o.clientId) || o.clientId < 0) throw new Error(`client id must be a whole number >= 0, got ${o.clientId}`);
    if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65_535) throw new Error(`gateway port must be 1..65535, got ${o.port}`);
    this.wait = o.backoffMs?.initial ?? 250;
    this.api = new IBApi({ host: o.host, port: o.port, maxReqPerSec: o.maxReqPerSec ?? 40 });
    this.api.on(EventName.received, () => (this.lastInboundAt = Date.now()));
    this.api.on(EventName.sent, () => {
      const now = performance.now();
      this.sentTimes.push(now);
      if (this.sentTimes.length > 4_096) this.prune(now);
    });
    this.api.on(EventName.nextValidId, (id: number) => {
      this.nextId = Math.max(this.nextId, id);
      if (!this.ready) {
        clearTimeout(this.handshakeTimer);
        this.ready = true;
        this.wait = this.o.backoffMs?.initial ?? 250;
        this.emit('ready', this.connects++ > 0);
      }
    });
    this.api.on(EventName.disconnected, () => {
      if (!this.ready && this.timer) return; // recycle() already did what a drop does
      const was = this.ready;
      this.ready = false;
      if (this.stopped) return;
      if (was) this.emit('disconnected');
      this.scheduleReconnect();
    });
    this.api.on(EventName.info, (message: string, code: number) => {
      if (code === 1100) this.emit('lost', message);
      else if (code === 1101) this.emit('dataLost', message);
      else if (code === 1102) this.emit('restored', message);
      // the simulator's notice that its replay is over (a real gateway never sends it)
      else if (code === CODE.REPLAY_ENDED && message?.startsWith(TEXT.REPLAY_ENDED)) this.emit('replayEnded', message);
    });
    this.api.on(EventName.error, (err: Error, code: number, reqId: number) => {
      // a refused connection surfaces as an error without a disconnect event on some paths
      if (!this.ready && (code === 502 || /ECONNREFUSED|connect/i.test(err?.message ?? ''))) this.scheduleReconnect();
      if (Number.isFinite(code) && !NOT_FAULTS.has(code)) this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
      this.emit('apiError', err, code, reqId);
    });
  }

  /**
   * Connects and resolves once the gateway has given the first order id; retries with backoff (saying
   * so) until then. Rejects if stop() was called, before or while it waits.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(`stopped before connecting to the gateway at ${this.o.host}:${this.o.port}`));
    return new Promise((resolve, reject) => {
      const onReady = () => {
        this.off('stopped', onStop);
        resolve();
      };
      const onStop = () => {
        this.off('ready', onReady);
        reject(new Error(`stopped before the gateway at ${this.o.host}:${this.o.port} answered`));
      };
      this.once('ready', onReady);
      this.once('stopped', onStop);
      this.api.connect(this.o.clientId);
      // a gateway that accepts the socket but never completes the handshake must not leave us silent
      this.handshakeTimer = setTimeout(() => {
        if (!this.ready && !this.stopped)
          this.recycle(
            `no answer from the gateway at ${this.o.host}:${this.o.port} within ${HANDSHAKE_MS / 1000} s (is it an IB Gateway/TWS with the API enabled, and is client id ${this.o.clientId} free?)`,
          );
      }, HANDSHAKE_MS);
    });
  }

  /** Treats the connection as dropped (a stall): disconnects and reconnects as after a drop. */
  recycle(reason: string): void {
    if (this.stopped) return;
    this.o.log?.(`gateway: ${reason}: reconnecting`);
    const was = this.ready;
    this.ready = false;
    if (was) this.emit('disconnected');
    this.api.disconnect();
    this.scheduleReconnect();
  }

  /** How many times the connection came back after the first (reconnects, gateway restarts included). */
  get reconnects(): number {
    return Math.max(this.connects - 1, 0);
  }

  /** The client-side pacing limit (messages per second). */
  get maxReqPerSec(): number {
    return this.o.maxReqPerSec ?? 40;
  }

  /** Messages written to the gateway within the last second. */
  messagesLastSecond(): number {
    this.prune(performance.now());
    return this.sentTimes.length;
  }

  private prune(now: number): void {
    let k = 0;
    while (k < this.sentTimes.length && this.sentTimes[k] <= now - 1_000) k++;
    if (k > 0) this.sentTimes = this.sentTimes.slice(k);
  }

  /** The next order id: IB's nextValidId, then counted up locally. */
  nextOrderId(): number {
    if (this.nextId < 0) throw new Error('no order id yet: the gateway has not sent nextValidId');
    return this.nextId++;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.handshakeTimer);
    this.api.disconnect();
    this.emit('stopped');
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const wait = this.wait;
    this.wait = Math.min(this.wait * 2, this.o.backoffMs?.max ?? 10_000);
    this.o.log?.(`gateway ${this.o.host}:${this.o.port} unreachable: reconnecting in ${wait} ms`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.ready) return;
      this.api.connect(this.o.clientId);
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = setTimeout(() => {
        if (!this.ready && !this.stopped) this.recycle(`no answer from the gateway within ${HANDSHAKE_MS / 1000} s`);
      }, HANDSHAKE_MS);
    }, wait);
  }
}
