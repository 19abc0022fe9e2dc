import { EventEmitter } from 'node:events';
import { EventName, IBApi } from '@stoqey/ib';

export interface IbConnectionOptions {
  host: string;
  port: number;
  clientId: number;
  /** client-side message pacing; IB allows 50 messages/s, so real gateways get 45 */
  maxReqPerSec?: number;
  /** reconnect backoff: first wait and ceiling */
  backoffMs?: { initial: number; max: number };
  log?: (message: string) => void;
}

/**
 * One API connection to IB Gateway/TWS through @stoqey/ib, kept alive: it reconnects with
 * exponential backoff after a drop or a gateway restart (a normal state, not an error), and emits
 * 'ready' after every (re)connection once IB has sent nextValidId; 'dataLost' after 1101 (the
 * subscriptions must be re-requested), 'lost' on 1100, 'restored' on 1102.
 * Order ids come only from nextValidId.
 */
export class IbConnection extends EventEmitter {
  readonly api: IBApi;
  private nextId = -1;
  private stopped = false;
  private wait: number;
  private timer: NodeJS.Timeout | undefined;
  private connects = 0;
  ready = false;

  constructor(private readonly o: IbConnectionOptions) {
    super();
    this.wait = o.backoffMs?.initial ?? 250;
    this.api = new IBApi({ host: o.host, port: o.port, maxReqPerSec: o.maxReqPerSec ?? 45 });
    this.api.on(EventName.nextValidId, (id: number) => {
      this.nextId = Math.max(this.nextId, id);
      if (!this.ready) {
        this.ready = true;
        this.wait = this.o.backoffMs?.initial ?? 250;
        this.emit('ready', this.connects++ > 0);
      }
    });
    this.api.on(EventName.disconnected, () => {
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
    });
    this.api.on(EventName.error, (err: Error, code: number, reqId: number) => {
      // a refused connection surfaces as an error without a disconnect event on some paths
      if (!this.ready && (code === 502 || /ECONNREFUSED|connect/i.test(err?.message ?? ''))) this.scheduleReconnect();
      this.emit('apiError', err, code, reqId);
    });
  }

  /** Connects and resolves once the gateway has given the first order id. */
  start(): Promise<void> {
    this.stopped = false;
    return new Promise((resolve) => {
      this.once('ready', () => resolve());
      this.api.connect(this.o.clientId);
    });
  }

  /** The next order id: IB's nextValidId, then counted up locally. */
  nextOrderId(): number {
    if (this.nextId < 0) throw new Error('no order id yet: the gateway has not sent nextValidId');
    return this.nextId++;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.api.disconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const wait = this.wait;
    this.wait = Math.min(this.wait * 2, this.o.backoffMs?.max ?? 10_000);
    this.o.log?.(`gateway ${this.o.host}:${this.o.port} unreachable: reconnecting in ${wait} ms`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped && !this.ready) this.api.connect(this.o.clientId);
    }, wait);
  }
}
