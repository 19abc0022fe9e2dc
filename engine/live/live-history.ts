import type { BarHistory } from '../core/strategy.ts';
import type { Bar } from '../core/types.ts';

/** The last `capacity` bars of each symbol, in ring buffers: what strategies can read live. */
export class LiveHistory implements BarHistory {
  private readonly cols: Float64Array[][]; // [sid][field] ring
  private readonly n: Int32Array;

  constructor(
    symbols: number,
    readonly capacity = 1_000,
  ) {
    this.cols = Array.from({ length: symbols }, () => Array.from({ length: 5 }, () => new Float64Array(capacity)));
    this.n = new Int32Array(symbols);
  }

  push(b: Bar): void {
    const i = this.n[b.sid] % this.capacity;
    const c = this.cols[b.sid];
    c[0][i] = b.open;
    c[1][i] = b.high;
    c[2][i] = b.low;
    c[3][i] = b.close;
    c[4][i] = b.volume;
    this.n[b.sid]++;
  }

  count(sid: number) {
    return this.n[sid];
  }
  open(sid: number, ago = 0) {
    return this.at(0, sid, ago);
  }
  high(sid: number, ago = 0) {
    return this.at(1, sid, ago);
  }
  low(sid: number, ago = 0) {
    return this.at(2, sid, ago);
  }
  close(sid: number, ago = 0) {
    return this.at(3, sid, ago);
  }
  volume(sid: number, ago = 0) {
    return this.at(4, sid, ago);
  }
  private at(field: number, sid: number, ago: number): number {
    if (ago < 0 || ago >= this.capacity || ago >= this.n[sid]) return NaN;
    return this.cols[sid][field][(this.n[sid] - 1 - ago) % this.capacity];
  }
}
