// Helpers for tests that drive the simulator with the real @stoqey/ib client over TCP.
import { EventName, IBApi } from '@stoqey/ib';
import type { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';

/** IBApi's event methods without their per-event overloads. */
interface Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** Resolves once `pred()` holds, checked now and after every batch the simulator emits. */
export function untilBatch(sim: IbGatewaySimulator, pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const on = () => {
      if (!pred()) return;
      clearTimeout(timer);
      sim.events.off('batch', on);
      resolve();
    };
    const timer = setTimeout(() => {
      sim.events.off('batch', on);
      reject(new Error(`condition not reached within ${timeoutMs} ms (clock ${new Date(sim.now()).toISOString()})`));
    }, timeoutMs);
    sim.events.on('batch', on);
  });
}

/** One @stoqey/ib client with every error recorded. */
export class ApiClient {
  readonly errors: { code: number; reqId: number; message: string }[] = [];
  nextValidId = -1;

  private constructor(readonly api: IBApi) {
    api.on(EventName.error, (err: Error, code: number, reqId: number) => this.errors.push({ code, reqId, message: err.message }));
    api.on(EventName.nextValidId, (id: number) => (this.nextValidId = id));
  }

  static async connect(port: number, clientId: number, maxReqPerSec = 10_000): Promise<ApiClient> {
    const c = new ApiClient(new IBApi({ host: '127.0.0.1', port, maxReqPerSec }));
    const ready = c.waitFor(EventName.nextValidId);
    c.api.connect(clientId);
    await ready;
    return c;
  }

  /** Resolves with the arguments of the next `event` that matches. */
  waitFor(event: EventName, pred: (...args: any[]) => boolean = () => true, timeoutMs = 5_000): Promise<any[]> {
    const events = this.api as unknown as Emitter;
    return new Promise((resolve, reject) => {
      const handler = (...args: any[]) => {
        if (!pred(...args)) return;
        clearTimeout(timer);
        events.off(event, handler);
        resolve(args);
      };
      const timer = setTimeout(() => {
        events.off(event, handler);
        reject(new Error(`no ${event} within ${timeoutMs} ms; errors: ${JSON.stringify(this.errors)}`));
      }, timeoutMs);
      events.on(event, handler);
    });
  }

  /** Every `event` from now on. */
  record(event: EventName): any[][] {
    const out: any[][] = [];
    (this.api as unknown as Emitter).on(event, (...args: any[]) => out.push(args));
    return out;
  }

  /** Lockstep: one reqCurrentTime per batch; resolves with the clock (epoch s) after the last. */
  async step(batches = 1): Promise<number> {
    let t = 0;
    for (let i = 0; i < batches; i++) {
      const answer = this.waitFor(EventName.currentTime);
      this.api.reqCurrentTime();
      [t] = await answer;
    }
    return t;
  }

  async close(): Promise<void> {
    if (!this.api.isConnected) return;
    const gone = this.waitFor(EventName.disconnected, () => true, 2_000).catch(() => undefined);
    this.api.disconnect();
    await gone;
  }
}
