/**
 * A binary min-heap of events ordered by (ts, seq). seq breaks ties stably: for bars it is the
 * symbol's index in the run, so simultaneous bars always come out in the run's symbol order.
 * Keys live in parallel typed arrays so pushing and popping allocates nothing.
 */
export class EventQueue<T> {
  private ts: Float64Array;
  private seq: Float64Array;
  private items: T[] = [];
  private n = 0;

  constructor(capacity = 64) {
    this.ts = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  push(ts: number, seq: number, item: T): void {
    if (this.n === this.ts.length) this.grow();
    let i = this.n++;
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.ts[p] < ts || (this.ts[p] === ts && this.seq[p] <= seq)) break;
      this.ts[i] = this.ts[p];
      this.seq[i] = this.seq[p];
      this.items[i] = this.items[p];
      i = p;
    }
    this.ts[i] = ts;
    this.seq[i] = seq;
    this.items[i] = item;
  }

  peekTs(): number {
    return this.n > 0 ? this.ts[0] : Infinity;
  }

  peekSeq(): number {
    return this.n > 0 ? this.seq[0] : Infinity;
  }

  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0];
    const last = --this.n;
    const ts = this.ts[last];
    const seq = this.seq[last];
    const item = this.items[last];
    this.items[last] = undefined as T;
    let i = 0;
    // sift down
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last && (this.ts[r] < this.ts[l] || (this.ts[r] === this.ts[l] && this.seq[r] < this.seq[l]))) c = r;
      if (ts < this.ts[c] || (ts === this.ts[c] && seq <= this.seq[c])) break;
      this.ts[i] = this.ts[c];
      this.seq[i] = this.seq[c];
      this.items[i] = this.items[c];
      i = c;
    }
    if (last > 0) {
      this.ts[i] = ts;
      this.seq[i] = seq;
      this.items[i] = item;
    }
    return top;
  }

  private grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    const seq = new Float64Array(this.seq.length * 2);
    seq.set(this.seq);
    this.ts = ts;
    this.seq = seq;
  }
}
