// IB's limit on client messages: at most `max` per second on a connection, counted over a sliding
// one-second window of real time. Every message over the limit is a violation (answered with error
// 100 and not acted on); `violations` of them within `withinMs` end the connection. (Unverified:
// whether IB still acts on a message over the limit; here it is dropped, so a client that relies on
// it shows up.)

export const MAX_RATE_CODE = 100;

/** IB's wording, e.g. "Max rate of messages per second has been exceeded:max=50 rec=51 (1)" */
export const maxRateText = (max: number, received: number, violations: number) =>
  `Max rate of messages per second has been exceeded:max=${max} rec=${received} (${violations})`;

export interface MsgRateVerdict {
  /** messages received in the last second, this one included */
  received: number;
  /** violations within the disconnect window, this one included */
  violations: number;
  disconnect: boolean;
}

export class MessageRate {
  private readonly times: number[] = [];
  private head = 0;
  private readonly violationTimes: number[] = [];

  constructor(
    private readonly max: number,
    private readonly disconnectAfter: { violations: number; withinMs: number },
  ) {}

  /** Counts a message received at `t` (ms): null within the limit, else the violation. */
  admit(t: number): MsgRateVerdict | null {
    const times = this.times;
    while (this.head < times.length && t - times[this.head] >= 1_000) this.head++;
    if (this.head > 1_024) {
      times.splice(0, this.head);
      this.head = 0;
    }
    times.push(t);
    const received = times.length - this.head;
    if (received <= this.max) return null;
    const v = this.violationTimes;
    v.push(t);
    while (t - v[0] >= this.disconnectAfter.withinMs) v.shift();
    return { received, violations: v.length, disconnect: v.length >= this.disconnectAfter.violations };
  }
}
