// The numbered event stream behind the WebSocket: every event an OpsSource emits gets the next `seq` (1, 2, 3...
// without gaps) and is kept in a ring buffer of the last `capacity` events, so a client that reconnects with the
// last seq it saw gets exactly what it missed, or is told (null) to take a fresh snapshot when that is older than
// the buffer (or newer than anything numbered here: the server restarted and the numbering began again).
import type { OpsEvent, OpsSource } from './types.ts';

/** How many events the stream keeps for reconnecting clients by default. */
export const DEFAULT_STREAM_CAPACITY = 10_000;

export class OpsStream {
  readonly capacity: number;
  private readonly ring: (OpsEvent | undefined)[];
  private last = 0;
  private readonly listeners = new Set<(e: OpsEvent) => void>();

  constructor(capacity: number = DEFAULT_STREAM_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`stream capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.ring = new Array(capacity);
  }

  /** The seq of the last event numbered (0 before the first). */
  get lastSeq(): number {
    return this.last;
  }

  /** The oldest seq still in the buffer (lastSeq + 1 when it is empty). */
  get firstSeq(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  /** Numbers `e`, keeps it, and hands it to every listener (a listener that throws does not stop the others). */
  push(e: Omit<OpsEvent, 'seq'>): OpsEvent {
    const event: OpsEvent = { seq: this.last + 1, type: e.type, ts: e.ts, data: e.data };
    this.last = event.seq;
    this.ring[(event.seq - 1) % this.capacity] = event;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own: the session and the other clients go on
      }
    }
    return event;
  }

  /**
   * The events after `seq`, in order ([] when the client is up to date), or null when the client must take a
   * snapshot: some of them have left the buffer, or `seq` is ahead of the numbering (another run or a restart).
   */
  since(seq: number): OpsEvent[] | null {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.last) return null;
    if (seq === this.last) return [];
    if (seq + 1 < this.firstSeq) return null;
    const out: OpsEvent[] = [];
    for (let s = seq + 1; s <= this.last; s++) out.push(this.ring[(s - 1) % this.capacity]!);
    return out;
  }

  /** Calls `listener` with every event numbered from now on; returns the unsubscribe. */
  subscribe(listener: (e: OpsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Numbers every event `source` emits from now on; returns the unsubscribe from the source. */
  attach(source: OpsSource): () => void {
    return source.subscribe((e) => {
      this.push(e);
    });
  }
}
