// The IB Gateway simulator `npm run live` runs in-process when no --gateway is given. Its state is
// journaled beside the runner's (run id `<run>/sim`) after every commit of the runner, so the simulated
// broker is never behind the runner's journal: a restart of the same run resumes the account, orders,
// execution ids and clock from there (what the broker did past it, the runner reconciles), or refuses
// to start when there is a session but no simulator state.
import type { CommissionSpec } from '../../engine/exec/costs.ts';
import type { BarSeries, ContractTerms, Interval } from '../../engine/core/types.ts';
import { loadBars } from '../../engine/data/load.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import type { SimSnapshot } from '../../engine/ib/sim/snapshot.ts';
import type { LiveJournal } from '../../engine/journal/live-journal.ts';
import { loadSession } from '../../engine/journal/session-store.ts';
import type { FxMarks } from '../../engine/portfolio/fx-marks.ts';
import { openRunData, openRunStore } from './run-data.ts';

export interface EmbeddedOptions {
  journal: LiveJournal;
  runId: string;
  data?: string;
  interval: Interval;
  from?: string;
  to?: string;
  symbols: string[];
  speed: number;
  lockstep: boolean;
  account: string;
  cash: number;
  commission: CommissionSpec;
  tz: string;
  /** the run's bars when the runner read them (pairs and options: quote bars), else loaded from --data */
  series?: BarSeries[];
  /** the terms of the symbols that are not US stocks: the simulator trades them as IB's contracts (pairs, options) */
  contracts?: Record<string, ContractTerms>;
  /**
   * the account's base currency (default USD; --base-currency): the simulated account keeps cash per currency and
   * converts into it at the replayed pairs' prices, else at the daily rates of --data, which it reads for itself (the
   * runner's FxMarks advances on the runner's clock and may not be shared)
   */
  baseCurrency?: string;
}

export class EmbeddedSimulator {
  private constructor(
    private readonly sim: IbGatewaySimulator,
    private readonly o: EmbeddedOptions,
    readonly resumed: boolean,
  ) {}

  static async start(o: EmbeddedOptions): Promise<EmbeddedSimulator> {
    const simRun = `${o.runId}/sim`;
    const { saved, journaledBars } = await o.journal.use(async (conn) => {
      const state = (await loadSession(conn, simRun, o.symbols)).state as SimSnapshot | undefined;
      const r = await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM live_bars WHERE run_id = $1', [o.runId]);
      return { saved: state, journaledBars: Number(r.getRowObjectsJS()[0].n) };
    });
    if (journaledBars > 0 && !saved) {
      throw new Error(
        `the journal already holds a session of run ${o.runId} (${journaledBars} bars) but no simulator state to resume it from: start over with another --out, or point --gateway at a gateway`,
      );
    }
    let series = o.series;
    if (!series) {
      const { store, from, to } = await openRunStore({ data: o.data, interval: o.interval, from: o.from, to: o.to, tz: o.tz });
      series = await loadBars(store, { symbols: o.symbols, interval: o.interval, from, to }).finally(() => store.close());
    }
    let fx: FxMarks | undefined;
    if (o.baseCurrency !== undefined && o.baseCurrency !== 'USD') {
      const data = await openRunData({
        data: o.data,
        symbols: o.symbols,
        interval: o.interval,
        from: o.from,
        to: o.to,
        tz: o.tz,
        baseCurrency: o.baseCurrency,
      });
      fx = data.fx;
      data.close();
    }
    const sim = await IbGatewaySimulator.start({
      series,
      ...(o.contracts ? { contracts: o.contracts } : {}),
      speed: o.lockstep ? 'max' : o.speed,
      account: o.account,
      cash: o.cash,
      commission: o.commission,
      tz: o.tz,
      resume: saved,
      ...(o.baseCurrency !== undefined ? { baseCurrency: o.baseCurrency } : {}),
      ...(fx ? { fx } : {}),
    });
    return new EmbeddedSimulator(sim, o, saved !== undefined);
  }

  get port(): number {
    return this.sim.port;
  }

  get finished(): Promise<void> {
    return this.sim.finished;
  }

  /** Resolves once the client's clock (`heard`) has reached the end of the replay, or after `ms`: its last batch is sent, not yet read. */
  async heardBy(heard: () => number, ms = 5_000): Promise<void> {
    const end = performance.now() + ms;
    while (heard() < this.sim.now() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  }

  /** Journals the simulator's state (written synchronously, like every journal entry): after each runner commit, and at the end. */
  save(): void {
    try {
      this.o.journal.write([{ t: 'state', runId: `${this.o.runId}/sim`, ts: this.sim.now(), state: this.sim.snapshot() }]);
    } catch {
      // the runner reports a journal that cannot be written, and stops
    }
  }

  async close(): Promise<void> {
    this.save();
    await this.sim.close();
  }
}
