// The live-operations dashboard: one page over GET /api/v1/state and the /api/v1/stream WebSocket.
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { OpsOrder, OpsSnapshot, OpsStrategy } from '../../engine/ops/types.ts';
import { EquityChart } from './chart.tsx';
import { type ClientState, OpsClient } from './client.ts';
import { age, clock, dateTime, money, ms, num, pct, quantity, sign, signedMoney } from './format.ts';
import './style.css';

const client = new OpsClient();

function useClient(): ClientState {
  const [state, setState] = useState(client.state);
  useEffect(() => {
    let frame = 0;
    const off = client.subscribe(() => {
      // many events in one frame render once
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setState(client.state);
      });
    });
    setState(client.state);
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, []);
  return state;
}

/** re-renders every second (for ages such as the heartbeat's) */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

function Panel({ title, id, wide, children, extra }: { title: string; id: string; wide?: boolean; children: ComponentChildren; extra?: ComponentChildren }) {
  return (
    <section class={`panel${wide ? ' wide' : ''}`} id={id} data-testid={id}>
      <header>
        <h2>{title}</h2>
        {extra}
      </header>
      {children}
    </section>
  );
}

function Stat({ label, value, cls, id }: { label: string; value: string; cls?: string; id?: string }) {
  return (
    <div class="stat" data-testid={id}>
      <span class="label">{label}</span>
      <span class={`value ${cls ?? ''}`}>{value}</span>
    </div>
  );
}

/** a horizontal bar: value against a limit (red from 90%) */
function Bar({ label, value, limit, text }: { label: string; value: number; limit: number; text: string }) {
  const u = limit > 0 ? value / limit : 0;
  const level = u >= 0.9 ? 'hot' : u >= 0.7 ? 'warm' : 'ok';
  return (
    <div class="bar" data-testid={`bar-${label}`}>
      <div class="bar-head">
        <span>{label}</span>
        <span class="muted">{text}</span>
      </div>
      <div class="track">
        <div class={`fill ${level}`} style={{ width: `${Math.max(0, Math.min(1, u)) * 100}%` }} />
      </div>
    </div>
  );
}

function ControlHint({ s, state }: { s: OpsSnapshot; state: ClientState }) {
  if (s.mode === 'replay') return <p class="hint">Replay of a finished session: read-only.</p>;
  if (!state.token)
    return (
      <p class="hint" data-testid="token-hint">
        Control is disabled: open the URL the runner printed (it ends in <code>#token=…</code>).
      </p>
    );
  return null;
}

function Header({ s, state }: { s: OpsSnapshot | null; state: ClientState }) {
  return (
    <header class="top">
      <div class="brand">
        <h1>Tradebench</h1>
        {s && (
          <span class="muted">
            {s.strategy} · {s.symbols.join(', ')} · <code>{s.runId}</code>
          </span>
        )}
      </div>
      <div class="badges">
        {s && <span class={`badge ${s.mode === 'live' ? 'live' : 'replay'}`}>{s.mode === 'live' ? 'LIVE' : 'REPLAY'}</span>}
        {s && (
          <span class={`badge ${s.readiness.ready ? 'ok' : 'bad'}`} title={s.readiness.reasons.join('\n')} data-testid="readiness">
            {s.readiness.ready ? 'Ready' : `Not ready: ${s.readiness.reasons.join('; ')}`}
          </span>
        )}
        {s?.risk.breaker.tripped && <span class="badge bad">Breaker tripped</span>}
        <span class={`badge stream-${state.status}`} data-testid="stream-status">
          {state.status === 'live' ? 'Stream live' : state.status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        {s && <span class="muted clock">{dateTime(s.now)}</span>}
      </div>
    </header>
  );
}

function Overview({ s }: { s: OpsSnapshot }) {
  const unrealized = s.positions.reduce((a, p) => a + p.unrealizedPnl, 0);
  return (
    <div class="kpis" data-testid="overview">
      <Stat id="kpi-equity" label="Equity" value={money(s.equity)} />
      <Stat id="kpi-daily-pnl" label="Today's P&L" value={signedMoney(s.dailyPnl)} cls={sign(s.dailyPnl)} />
      <Stat label="Today's return" value={pct(s.dayStartEquity > 0 ? s.dailyPnl / s.dayStartEquity : null, 2, true)} cls={sign(s.dailyPnl)} />
      <Stat label="Unrealized P&L" value={signedMoney(unrealized)} cls={sign(unrealized)} />
      <Stat label="Cash" value={money(s.cash)} />
      <Stat label="Drawdown" value={pct(s.drawdown)} cls={s.drawdown < 0 ? 'neg' : 'flat'} />
      {s.account && <Stat label="Net liquidation (IB)" value={money(s.account.netLiquidation)} />}
    </div>
  );
}

function Positions({ s }: { s: OpsSnapshot }) {
  const rows = [...s.positions].sort((a, b) => Math.abs(b.marketValue) - Math.abs(a.marketValue));
  return (
    <Panel title="Positions" id="positions" extra={<span class="muted">{rows.length}</span>}>
      {rows.length === 0 ? (
        <p class="empty">Flat.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Symbol</th>
              <th class="n">Qty</th>
              <th class="n">Avg cost</th>
              <th class="n">Last</th>
              <th class="n">Market value</th>
              <th class="n">Unrealized P&L</th>
              <th class="n">Weight</th>
              <th>Sector</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.symbol} data-symbol={p.symbol}>
                <td class="sym">{p.symbol}</td>
                <td class={`n ${p.quantity < 0 ? 'neg' : ''}`}>{quantity(p.quantity)}</td>
                <td class="n">{money(p.avgCost)}</td>
                <td class="n">{money(p.lastPrice)}</td>
                <td class="n">{money(p.marketValue)}</td>
                <td class={`n ${sign(p.unrealizedPnl)}`}>{signedMoney(p.unrealizedPnl)}</td>
                <td class="n">{pct(p.weight, 1)}</td>
                <td class="muted">{p.sector || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** MKT, LMT 402.50, STP 95.00, STP LMT 95.00 / 94.50 */
function orderPrice(o: OpsOrder): string {
  const prices = [o.stop, o.limit].filter((x): x is number => x !== null).map((x) => money(x));
  return prices.length ? `${o.type} ${prices.join(' / ')}` : o.type;
}

function OpenOrders({ s, state }: { s: OpsSnapshot; state: ClientState }) {
  const can = client.canControl;
  const cancel = (o: OpsOrder) => client.control(`cancel:${o.id}`, `orders/${o.id}/cancel`, {}, `Cancel order #${o.id}`);
  return (
    <Panel title="Open orders" id="orders" extra={<span class="muted">{s.openOrders.length}</span>}>
      {s.openOrders.length === 0 ? (
        <p class="empty">No open orders.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Symbol</th>
              <th>Side</th>
              <th class="n">Qty</th>
              <th>Type</th>
              <th class="n">Filled</th>
              <th>Strategy</th>
              <th>Status</th>
              {s.mode === 'live' && <th />}
            </tr>
          </thead>
          <tbody>
            {s.openOrders.map((o) => (
              <tr key={o.id} data-order-id={o.id}>
                <td class="muted" title={`submitted ${dateTime(o.submittedAt)}`}>
                  {o.id}
                </td>
                <td class="sym">{o.symbol}</td>
                <td class={o.side === 'BUY' ? 'pos' : 'neg'}>{o.side}</td>
                <td class="n">{quantity(o.quantity)}</td>
                <td>{orderPrice(o)}</td>
                <td class="n">{quantity(o.filledQty)}</td>
                <td class="muted">{o.strategy}</td>
                <td>
                  <span class="status">{o.status}</span>
                </td>
                {s.mode === 'live' && (
                  <td class="n">
                    <button
                      type="button"
                      class="small"
                      data-testid={`cancel-${o.id}`}
                      disabled={!can || state.pending[`cancel:${o.id}`]}
                      title={can ? `Cancel order #${o.id}` : 'Control needs the token from the runner’s URL'}
                      onClick={() => cancel(o)}
                    >
                      Cancel
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

function Executions({ s }: { s: OpsSnapshot }) {
  const fills = s.fillsToday.slice(-25).reverse();
  return (
    <Panel title="Recent executions" id="fills" extra={<span class="muted">{s.fillsToday.length} today</span>}>
      {fills.length === 0 ? (
        <p class="empty">No executions today.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>Symbol</th>
              <th>Side</th>
              <th class="n">Qty</th>
              <th class="n">Price</th>
              <th class="n">Commission</th>
              <th>Strategy</th>
              <th>Order</th>
            </tr>
          </thead>
          <tbody>
            {fills.map((f) => (
              <tr key={f.execId} data-exec-id={f.execId}>
                <td class="muted">{clock(f.ts)}</td>
                <td class="sym">{f.symbol}</td>
                <td class={f.quantity >= 0 ? 'pos' : 'neg'}>{f.quantity >= 0 ? 'BUY' : 'SELL'}</td>
                <td class="n">{quantity(Math.abs(f.quantity))}</td>
                <td class="n">{money(f.price)}</td>
                <td class="n">{money(f.commission)}</td>
                <td>{f.strategy}</td>
                <td class="muted">#{f.orderId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

function Performance({ s }: { s: OpsSnapshot }) {
  const p = s.performance;
  return (
    <Panel title="Performance" id="performance">
      <div class="stats">
        <Stat id="perf-return" label="Cumulative return" value={pct(p.totalReturn, 2, true)} cls={sign(p.totalReturn)} />
        <Stat id="perf-sharpe" label="Sharpe" value={num(p.sharpe)} />
        <Stat id="perf-maxdd" label="Max drawdown" value={pct(p.maxDrawdown === 0 ? 0 : -Math.abs(p.maxDrawdown))} cls={p.maxDrawdown ? 'neg' : 'flat'} />
        <Stat id="perf-winrate" label="Win rate" value={pct(p.winRate, 1)} />
        <Stat id="perf-pf" label="Profit factor" value={p.profitFactor === null ? '—' : Number.isFinite(p.profitFactor) ? num(p.profitFactor) : '∞'} />
        <Stat label="Trades" value={String(p.trades)} />
      </div>
    </Panel>
  );
}

function KillSwitch({ s, state }: { s: OpsSnapshot; state: ClientState }) {
  const [confirming, setConfirming] = useState(false);
  const [flatten, setFlatten] = useState(true);
  const [reason, setReason] = useState('');
  const can = client.canControl;
  if (s.mode !== 'live') return null;
  const kill = async () => {
    const ok = await client.control('kill', 'kill', { flatten, reason: reason.trim() || 'dashboard' }, flatten ? 'Kill and flatten' : 'Kill');
    if (ok) setConfirming(false);
  };
  return (
    <div class="controls" data-testid="kill-controls">
      {!confirming ? (
        <div class="row">
          <button type="button" class="danger" data-testid="kill" disabled={!can} onClick={() => setConfirming(true)}>
            Kill switch…
          </button>
          <button
            type="button"
            data-testid="breaker-reset"
            disabled={!can || !s.risk.breaker.tripped || state.pending.breaker}
            onClick={() => client.control('breaker', 'breaker/reset', {}, 'Reset the breaker')}
          >
            Reset breaker
          </button>
        </div>
      ) : (
        <div class="confirm" data-testid="kill-confirm">
          <p>
            <strong>Stop trading now?</strong> New orders are refused and open orders are cancelled.
          </p>
          <label class="check">
            <input type="checkbox" data-testid="kill-flatten" checked={flatten} onChange={(e) => setFlatten((e.target as HTMLInputElement).checked)} />
            Also flatten every position (market orders)
          </label>
          <input
            type="text"
            class="reason"
            maxLength={500}
            placeholder="Reason (journaled)"
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
          <div class="row">
            <button type="button" class="danger" data-testid="kill-confirm-button" disabled={!can || state.pending.kill} onClick={kill}>
              {flatten ? 'Kill and flatten' : 'Kill'}
            </button>
            <button type="button" data-testid="kill-abort" onClick={() => setConfirming(false)}>
              Keep trading
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function Risk({ s, state }: { s: OpsSnapshot; state: ClientState }) {
  const b = s.risk.breaker;
  const sectors = [...s.exposure.sectors].sort((a, c) => c.weight - a.weight);
  return (
    <Panel title="Risk" id="risk">
      <div class="stats">
        <Stat id="risk-gross" label="Gross exposure" value={pct(s.exposure.gross, 1)} />
        <Stat id="risk-net" label="Net exposure" value={pct(s.exposure.net, 1, true)} />
        <Stat id="risk-drawdown" label="Current drawdown" value={pct(s.drawdown)} cls={s.drawdown < 0 ? 'neg' : 'flat'} />
      </div>
      <div class={`breaker ${b.tripped ? 'tripped' : 'armed'}`} data-testid="breaker">
        <strong>Breaker: {b.tripped ? 'TRIPPED' : 'armed'}</strong>
        {b.tripped && (
          <span>
            {' '}
            — {b.check ?? ''} {b.reason ?? ''}
          </span>
        )}
      </div>
      <h3>Limits</h3>
      {s.risk.limits.length === 0 ? (
        <p class="empty">No limits.</p>
      ) : (
        s.risk.limits.map((l) => (
          <Bar key={l.name} label={l.name} value={l.utilisation} limit={1} text={`${num(l.value)} / ${num(l.limit)} · ${pct(l.utilisation, 0)}`} />
        ))
      )}
      <h3>Sectors</h3>
      {sectors.length === 0 ? (
        <p class="empty">No exposure.</p>
      ) : (
        sectors.map((x) => <Bar key={x.sector} label={x.sector || 'unknown'} value={x.weight} limit={1} text={pct(x.weight, 1)} />)
      )}
      <KillSwitch s={s} state={state} />
    </Panel>
  );
}

function Health({ s, now }: { s: OpsSnapshot; now: number }) {
  const c = s.connection;
  const lat = s.latency.barToOrder;
  const codes = Object.entries(s.errors.byCode).sort((a, b) => b[1] - a[1]);
  const hbAge = c.lastHeartbeatAt === null ? null : now - c.lastHeartbeatAt;
  return (
    <Panel title="System health" id="health">
      <div class="stats">
        <Stat id="health-gateway" label="Gateway" value={c.connected ? 'connected' : 'disconnected'} cls={c.connected ? 'pos' : 'neg'} />
        <Stat label="Reconciled" value={c.reconciled ? 'yes' : 'no'} cls={c.reconciled ? 'pos' : 'neg'} />
        <Stat
          id="health-heartbeat"
          label="Last heartbeat"
          value={hbAge === null ? 'never' : `${age(hbAge)} ago`}
          cls={hbAge !== null && hbAge > 30_000 ? 'neg' : ''}
        />
        <Stat id="health-reconnects" label="Reconnects" value={String(c.reconnects)} />
        <Stat id="health-p50" label="Bar→order p50" value={ms(lat.p50)} />
        <Stat id="health-p99" label="Bar→order p99" value={ms(lat.p99)} />
        <Stat id="health-errors" label="Errors" value={String(s.errors.total)} cls={s.errors.total > 0 ? 'neg' : ''} />
      </div>
      <Bar
        label="Message rate"
        value={c.messagesPerSecond}
        limit={c.maxMessagesPerSecond}
        text={`${num(c.messagesPerSecond, 0)} / ${num(c.maxMessagesPerSecond, 0)} msg/s`}
      />
      {codes.length > 0 && (
        <p class="muted small">
          {codes
            .slice(0, 8)
            .map(([code, n]) => `${code}: ${n}`)
            .join(' · ')}
        </p>
      )}
    </Panel>
  );
}

function Strategies({ s, state }: { s: OpsSnapshot; state: ClientState }) {
  const can = client.canControl;
  const toggle = (st: OpsStrategy) =>
    client.control(
      `strategy:${st.name}`,
      `strategies/${encodeURIComponent(st.name)}/${st.paused ? 'resume' : 'pause'}`,
      {},
      `${st.paused ? 'Resume' : 'Pause'} ${st.name}`,
    );
  return (
    <Panel title="Strategies" id="strategies" wide>
      <table>
        <thead>
          <tr>
            <th>Strategy</th>
            <th class="n">P&L</th>
            <th class="n">Allocation</th>
            <th>State</th>
            <th>Latest model probability</th>
            {s.mode === 'live' && <th />}
          </tr>
        </thead>
        <tbody>
          {s.strategies.map((st) => (
            <tr key={st.name} data-strategy={st.name}>
              <td class="sym">{st.name}</td>
              <td class={`n ${sign(st.pnl)}`}>{signedMoney(st.pnl)}</td>
              <td class="n">{pct(st.allocation, 1)}</td>
              <td>{st.paused ? <span class="badge warn">paused</span> : <span class="badge ok">running</span>}</td>
              <td>
                {st.signals && Object.keys(st.signals).length > 0 ? (
                  <div class="signals">
                    {Object.entries(st.signals).map(([sym, p]) => (
                      <span key={sym} class="signal" title={`${sym}: ${num(p, 4)}`}>
                        <span class="sym">{sym}</span>
                        <span class="prob">
                          <span class="prob-fill" style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
                        </span>
                        {num(p, 2)}
                      </span>
                    ))}
                  </div>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              {s.mode === 'live' && (
                <td class="n">
                  <button
                    type="button"
                    class="small"
                    data-testid={`${st.paused ? 'resume' : 'pause'}-${st.name}`}
                    disabled={!can || state.pending[`strategy:${st.name}`]}
                    onClick={() => toggle(st)}
                  >
                    {st.paused ? 'Resume' : 'Pause'}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

function Activity({ state }: { state: ClientState }) {
  return (
    <Panel title="Activity" id="activity" wide>
      {state.activity.length === 0 ? (
        <p class="empty">Nothing yet.</p>
      ) : (
        <ul class="log">
          {state.activity.slice(0, 40).map((a, i) => (
            <li key={`${a.ts}-${i}`} class={a.risk ? 'risk' : ''}>
              <span class="muted">{clock(a.ts)}</span>
              <span class="kind">{a.kind}</span>
              <span>{a.message}</span>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

function App() {
  const state = useClient();
  const now = useNow();
  const s = state.snapshot;
  return (
    <div class="page">
      <Header s={s} state={state} />
      {state.status === 'reconnecting' && (
        <div class="banner sticky" data-testid="reconnecting" role="status">
          Connection to the session lost — reconnecting…
        </div>
      )}
      {state.error && <div class="banner soft">{state.error}</div>}
      {!s ? (
        <p class="boot">Waiting for the session's state…</p>
      ) : (
        <main>
          <ControlHint s={s} state={state} />
          <Overview s={s} />
          <div class="grid">
            <Panel title="Equity" id="equity" wide extra={<span class="muted">{s.equityCurve.length} points</span>}>
              <EquityChart points={s.equityCurve} />
            </Panel>
            <Positions s={s} />
            <OpenOrders s={s} state={state} />
            <Executions s={s} />
            <Performance s={s} />
            <Risk s={s} state={state} />
            <Health s={s} now={now} />
            <Strategies s={s} state={state} />
            <Activity state={state} />
          </div>
        </main>
      )}
      <div class="toasts">
        {state.toasts.map((t) => (
          <div key={t.id} class={`toast ${t.ok ? 'ok' : 'bad'}`} data-testid="toast">
            {t.text}
          </div>
        ))}
      </div>
    </div>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
  client.start();
}
