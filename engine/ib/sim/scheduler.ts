// When the next 5-second batch goes out: in lockstep with the clients ('max' speed), or paced at N x
// real time. The replay clock itself is Replay's; this only decides the moments.
//
// Lockstep contract:
// - participants are the connections with a real-time-bar subscription (if none has one: those with
//   market-data subscriptions); with no participant the replay pauses;
// - the next batch goes out once every participant is ready: it has sent reqCurrentTime since the
//   previous batch and since its latest subscription. A participant that subscribed and has not
//   signalled since is waited for `joinGraceMs` of real time, then taken as ready;
// - after the batch, each connection's held reqCurrentTime requests get one answer (the virtual
//   clock, the end of that batch), so a client reads "batch complete" from the answer; requests held
//   when the subscriptions were lost (1101) stay held for the next batch, so a client that
//   resubscribes does not end up with two signals in flight;
// - reqCurrentTime from a non-participant, at N x speed or after the end is answered at once (with
//   any it had held), as are held ones when the client cancels its last subscription.
import { performance } from 'node:perf_hooks';
import type { ClientConnection } from './connection.ts';

export interface SchedulerHost {
  readonly connections: ReadonlySet<ClientConnection>;
  /** the replay cannot move now (not started, connectivity lost, restarting, stalled) */
  halted(): boolean;
  /** no client has subscribed yet: the market has not begun */
  idle(): boolean;
  /** start of the next batch (Infinity at the end) */
  nextBatchTs(): number;
  /** the virtual clock (ms) */
  now(): number;
  /** length of a batch's bars (ms) */
  readonly batchMs: number;
  /** emits the next batch, then calls afterBatch */
  emitBatch(): void;
  /** the replay is over */
  onEnd(): void;
}

export class BatchScheduler {
  /** the replay is over: no more batches */
  ended = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private pacedTimer: NodeJS.Timeout | undefined;
  private anchor: { wall: number; virtual: number } | null = null;

  constructor(
    private readonly host: SchedulerHost,
    private readonly speed: 'max' | number,
    private readonly joinGraceMs: number,
  ) {}

  participants(): ClientConnection[] {
    const ready = [...this.host.connections].filter((c) => c.state === 'ready');
    const bars = ready.filter((c) => c.rtBars.size > 0);
    return bars.length > 0 ? bars : ready.filter((c) => c.mktData.size > 0);
  }

  /** A reqCurrentTime: true when it is held as a lockstep signal (answered after the next batch); false: answer it now. */
  signal(conn: ClientConnection): boolean {
    if (this.speed !== 'max' || this.ended || !this.participants().includes(conn)) {
      conn.pendingTime = 0; // the answer about to go out covers those too
      return false;
    }
    conn.pendingTime++;
    conn.joinedAt = null;
    this.pump();
    return true;
  }

  /** A market-data subscription: the connection's next signal (or the grace) is waited for. */
  join(conn: ClientConnection): void {
    conn.joinedAt = performance.now();
  }

  /** The client cancelled a subscription: if it no longer takes part, its held signals are answered. */
  left(conn: ClientConnection): void {
    if (!this.participants().includes(conn)) this.answer(conn);
    this.pump();
  }

  /** Moves the replay on if it can; called whenever something it waits for may have changed. */
  pump(): void {
    clearTimeout(this.graceTimer);
    if (this.ended) return;
    const parts = this.participants();
    const atEnd = !Number.isFinite(this.host.nextBatchTs());
    const halted = this.host.halted();
    if (this.speed !== 'max') {
      // in real time the market moves on whoever listens: drops, restarts and stalls lose data, not time
      if (this.host.idle()) this.stopPaced();
      else this.schedulePaced();
      return;
    }
    if (halted && !(atEnd && parts.length === 0)) return;
    if (parts.length === 0 && !atEnd) return;
    const now = performance.now();
    let wait = 0;
    for (const c of parts) {
      if (c.joinedAt === null) {
        if (c.pendingTime > 0) continue;
        return; // waiting for this client's reqCurrentTime
      }
      // subscribed since its last signal: wait for a new one, or for the grace to pass
      if (this.joinGraceMs <= 0) return;
      wait = Math.max(wait, c.joinedAt + this.joinGraceMs - now);
    }
    if (wait > 0) {
      this.graceTimer = setTimeout(() => this.pump(), Math.ceil(wait));
      return;
    }
    for (const c of parts) c.joinedAt = null;
    if (atEnd) this.end();
    else this.host.emitBatch();
  }

  /** After a batch went out: one answer to every held signal; at N x speed the end comes with the last batch. */
  afterBatch(): void {
    for (const c of this.host.connections) this.answer(c);
    if (this.speed !== 'max' && !Number.isFinite(this.host.nextBatchTs())) this.end();
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.graceTimer);
    this.stopPaced();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const c of this.host.connections) this.answer(c);
    this.host.onEnd();
  }

  /** One answer however many requests are held: the lockstep signal stays a single token per client. */
  private answer(c: ClientConnection): void {
    if (c.pendingTime === 0) return;
    c.pendingTime = 0;
    c.sendCurrentTime(this.host.now());
  }

  private stopPaced(): void {
    clearTimeout(this.pacedTimer);
    this.pacedTimer = undefined;
    this.anchor = null; // resumes from where the clock stands, without a burst
  }

  private schedulePaced(): void {
    if (this.pacedTimer) return;
    const next = this.host.nextBatchTs();
    if (!Number.isFinite(next)) {
      this.end();
      return;
    }
    const wall = performance.now();
    this.anchor ??= { wall, virtual: this.host.now() };
    // a 5-second bar goes out when it closes
    const due = this.anchor.wall + (next + this.host.batchMs - this.anchor.virtual) / (this.speed as number);
    this.pacedTimer = setTimeout(
      () => {
        this.pacedTimer = undefined;
        if (this.ended || this.host.idle()) {
          this.anchor = null;
          return;
        }
        this.host.emitBatch();
        this.pump();
      },
      Math.max(0, due - wall),
    );
  }
}
