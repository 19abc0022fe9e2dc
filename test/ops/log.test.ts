// The session's structured logs: JSON lines with the run id and the order id as correlation id, the human
// lines unchanged in the pretty format, credentials never written.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../engine/journal/live-journal.ts';
import { typicalBatch } from '../../engine/journal/live-journal.ts';
import { describeEntry } from '../../engine/live/session-lines.ts';
import { createSessionLogger, entryRecord, type LogFormat, logEntry, orderLine, REDACTED } from '../../engine/ops/log.ts';

const RUN = 'run-7f3a';
const TS = Date.parse('2024-03-04T15:31:00Z');
/** when typicalBatch's order was decided */
const TS_BATCH = 1_700_000_000_000 + 60_000;

/** a session's entries: an order decided, sent, filled; a risk event; the runner's notes */
function entries(): JournalEntry[] {
  const batch = typicalBatch(RUN, 0); // order 1 (BUY 10 SPY MKT), NEW→RISK_CHECK (quiet), RISK_CHECK→APPROVED, a bar
  return [
    ...batch,
    { t: 'orderEvent', runId: RUN, seq: 2, e: { ts: TS, orderId: 1, from: 'APPROVED', to: 'SUBMITTED', reason: '' } },
    {
      t: 'fill',
      runId: RUN,
      seq: 0,
      f: { orderId: 1, execId: 'E1.01', strategy: 'sma-cross', symbol: 'SPY', sid: 0, ts: TS, qty: 10, price: 450.31, commission: 1 },
    },
    { t: 'orderEvent', runId: RUN, seq: 3, e: { ts: TS, orderId: 1, from: 'SUBMITTED', to: 'FILLED', reason: '' } },
    { t: 'orderEvent', runId: RUN, seq: 4, e: { ts: TS, orderId: 2, from: 'RISK_CHECK', to: 'REJECTED', reason: 'max position' } },
    { t: 'risk', runId: RUN, seq: 0, e: { ts: TS, orderId: 2, check: 'maxPositionPct', value: 0.3, limit: 0.2, message: 'position 30% over 20%' } },
    { t: 'log', runId: RUN, seq: 0, ts: TS, kind: 'connection', message: 'connected to the gateway at 127.0.0.1:4002 as client 1' },
    { t: 'log', runId: RUN, seq: 1, ts: TS, kind: 'order', message: 'modify order 3 BUY SPY: limit 40 → 41.5' },
    { t: 'equity', runId: RUN, p: { ts: TS, equity: 100_000, cash: 95_000, gross: 5_000 } },
    { t: 'state', runId: RUN, ts: TS, state: { risk: {} } },
  ];
}

function capture(format: LogFormat) {
  const chunks: string[] = [];
  const logger = createSessionLogger({ format, runId: RUN, destination: { write: (s: string) => void chunks.push(s) } });
  return { logger, text: () => chunks.join('') };
}

describe('structured session logs', () => {
  it('JSON: one object per line, each with the runId; order and fill lines carry the orderId; the message is the human line', () => {
    const xs = entries();
    const orders = [xs[0].t === 'order' ? xs[0].order : undefined!];
    const { logger, text } = capture('json');
    for (const x of xs) logEntry(logger, x, describeEntry(x, orders));
    const lines = text().trimEnd().split('\n');
    const recs = lines.map((l) => JSON.parse(l));
    const human = xs.map((x) => describeEntry(x, orders)).filter((l) => l !== null);
    expect(recs.map((r) => r.msg)).toEqual(human);
    expect(recs).toHaveLength(8);
    for (const r of recs) {
      expect(r.runId).toBe(RUN);
      expect(typeof r.time).toBe('number');
      expect(r.ts).toBe(r.kind === 'orderEvent' && r.to === 'APPROVED' ? TS_BATCH : TS);
      expect(r).not.toHaveProperty('pid');
    }
    const byKind = (k: string) => recs.filter((r) => r.kind === k);
    expect(byKind('orderEvent').map((r) => [r.orderId, r.to, r.level])).toEqual([
      [1, 'APPROVED', 'info'],
      [1, 'SUBMITTED', 'info'],
      [1, 'FILLED', 'info'],
      [2, 'REJECTED', 'warn'],
    ]);
    expect(byKind('orderEvent')[3].reason).toBe('max position');
    expect(byKind('fill')).toEqual([
      expect.objectContaining({ level: 'info', orderId: 1, execId: 'E1.01', symbol: 'SPY', qty: 10, price: 450.31, commission: 1, strategy: 'sma-cross' }),
    ]);
    expect(byKind('risk')).toEqual([expect.objectContaining({ level: 'warn', orderId: 2, check: 'maxPositionPct', value: 0.3, limit: 0.2 })]);
    // a note naming an order carries it too; one that does not, has none
    expect(byKind('order')).toEqual([expect.objectContaining({ orderId: 3, msg: expect.stringContaining('modify order 3') })]);
    expect(byKind('connection')[0]).not.toHaveProperty('orderId');
  });

  it('entryRecord maps an entry to {level, msg, runId, orderId?, kind, ...}; null for entries without a human line', () => {
    const [, , , bar] = typicalBatch(RUN, 0);
    expect(entryRecord(bar, describeEntry(bar, []))).toBeNull();
    const fill = entries()[5];
    expect(entryRecord(fill, 'a line')).toEqual({
      level: 'info',
      msg: 'a line',
      runId: RUN,
      orderId: 1,
      kind: 'fill',
      ts: TS,
      execId: 'E1.01',
      strategy: 'sma-cross',
      symbol: 'SPY',
      qty: 10,
      price: 450.31,
      commission: 1,
    });
  });

  it("pretty: exactly describeEntry's lines, nothing added", () => {
    const xs = entries();
    const orders = [xs[0].t === 'order' ? xs[0].order : undefined!];
    const { logger, text } = capture('pretty');
    for (const x of xs) logEntry(logger, x, describeEntry(x, orders));
    const human = xs.map((x) => describeEntry(x, orders)).filter((l) => l !== null);
    expect(human).toHaveLength(8);
    expect(text()).toBe(human.map((l) => `${l}\n`).join(''));
    expect(human[1]).toMatch(/^2024-03-04 15:31:00Z order 1 BUY 10 SPY MKT: SUBMITTED$/);
  });

  it('tokens, passwords and authorization headers are redacted, at the top level and nested', () => {
    const { logger, text } = capture('json');
    const secret = 'b8f0c2d1e4a7-super-secret';
    logger.info({ token: secret, headers: { authorization: `Bearer ${secret}` }, smtp: { password: secret }, user: 'ops' }, 'control attempt');
    orderLine(logger, 12).warn({ req: { headers: { authorization: `Bearer ${secret}`, cookie: secret } } }, 'cancel refused');
    const out = text();
    expect(out).not.toContain(secret);
    const [a, b] = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(a).toMatchObject({ runId: RUN, level: 'info', token: REDACTED, headers: { authorization: REDACTED }, smtp: { password: REDACTED }, user: 'ops' });
    expect(b).toMatchObject({ runId: RUN, level: 'warn', orderId: 12, msg: 'cancel refused', req: { headers: { authorization: REDACTED, cookie: REDACTED } } });
  });

  it('refuses an unknown format', () => {
    expect(() => createSessionLogger({ format: 'xml' as LogFormat, runId: RUN })).toThrow(/unknown log format 'xml': use json or pretty/);
  });
});
