// One client connection: framing, the handshake state, the output (held back during a stall), and
// the subscriptions IB keeps per connection (a reconnecting client must request them again).
import type { Socket } from 'node:net';
import type { Field } from '../protocol/fields.ts';
import { API_PREFIX, encodeFrame, FrameError, FrameReader, parseVersionRange, splitFields } from '../protocol/framing.ts';
import { currentTime } from '../protocol/messages.ts';

export interface MktDataSub {
  sid: number;
}

export interface RtBarSub {
  sid: number;
  useRTH: boolean;
  /** whatToShow BID or ASK on a quoted series: that side's bars (otherwise the series' own: trades, or a quoted series' mid) */
  side?: 'BID' | 'ASK';
}

export interface HistUpdateSub {
  sid: number;
  barSize: string;
  useRTH: boolean;
  formatDate: number;
}

export interface ConnectionHandler {
  /** the client's version range: accept (send the server version) or close */
  onVersion(conn: ClientConnection, range: { min: number; max: number } | null): void;
  onMessage(conn: ClientConnection, fields: string[]): void;
  onClose(conn: ClientConnection): void;
  /** whether output is held back (a stall) */
  stalled(): boolean;
}

export class ClientConnection {
  state: 'handshake' | 'awaiting-start' | 'ready' | 'closed' = 'handshake';
  clientId = -1;
  readonly mktData = new Map<number, MktDataSub>();
  readonly rtBars = new Map<number, RtBarSub>();
  readonly histUpdates = new Map<number, HistUpdateSub>();
  readonly accountSummaries = new Map<number, string[]>();
  readonly pnlRequests = new Set<number>();
  positions = false;
  marketDataType = 1;
  /** lockstep: reqCurrentTime requests held until the next batch */
  pendingTime = 0;
  /** lockstep: (real) time of its latest market-data subscription, until its next reqCurrentTime */
  joinedAt: number | null = null;
  private readonly reader = new FrameReader(API_PREFIX);
  private held: Buffer[] = [];
  private corked = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly handler: ConnectionHandler,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.closed());
    socket.on('error', () => this.close());
  }

  get hasMarketData(): boolean {
    return this.rtBars.size > 0 || this.mktData.size > 0;
  }

  send(fields: readonly Field[]): void {
    if (this.state === 'closed') return;
    const frame = encodeFrame(fields);
    if (this.handler.stalled()) {
      this.held.push(frame);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }

  sendCurrentTime(nowMs: number): void {
    this.send(currentTime(Math.floor(nowMs / 1000)));
  }

  /** Sends what a stall held back. */
  release(): void {
    const frames = this.held;
    this.held = [];
    if (this.state !== 'closed' && frames.length > 0) this.socket.write(Buffer.concat(frames));
  }

  close(): void {
    if (this.state === 'closed') return;
    this.socket.destroy();
    this.closed();
  }

  /** Closes after what was sent has gone out. */
  end(): void {
    if (this.state === 'closed') return;
    this.release();
    this.socket.end();
    this.closed();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.held = [];
    this.handler.onClose(this);
  }

  private onData(chunk: Buffer): void {
    let payloads: Buffer[];
    try {
      payloads = this.reader.push(chunk);
    } catch (e) {
      if (e instanceof FrameError) {
        this.close();
        return;
      }
      throw e;
    }
    for (const p of payloads) {
      if (this.state === 'closed') return;
      if (this.state === 'handshake') this.handler.onVersion(this, parseVersionRange(p.toString('utf8')));
      else this.handler.onMessage(this, splitFields(p));
    }
  }
}
