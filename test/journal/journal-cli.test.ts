import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { runCli } from '../cli/run-cli.ts';
import { order, step, steps } from './entries.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-journal-cli-'));
const file = path.join(dir, 'journal.duckdb');
let journal: LiveJournal;

const cli = (...args: string[]) => runCli('journal.ts', args);

beforeAll(async () => {
  // two runs; the latest has entries in the database and, written after the last flush, only in the write-ahead file
  journal = await LiveJournal.open(file, { flushMs: 3_600_000 });
  journal.write(steps('run-old', 0, 2));
  journal.write(steps('run-new', 0, 6));
  await journal.flush();
  journal.write(step('run-new', 6));
  journal.write([{ t: 'order', runId: 'run-new', order: order(2, { limit: 99.5, tag: 'modified' }) }]);
  journal.write([{ t: 'log', runId: 'run-new', seq: 7, ts: Date.UTC(2024, 2, 4, 15), kind: 'reconcile', message: 'not yet in DuckDB' }]);
});

afterAll(async () => {
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run journal', () => {
  it('prints the latest run as aligned text, current to the last write (the write-ahead file merged in)', () => {
    const r = cli(file, 'logs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/run run-new: 8 logs; \d+ entries not yet flushed/);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^seq +time +kind +message$/);
    expect(lines[1]).toMatch(/^-+ +-+ +-+ +-+$/);
    expect(lines).toHaveLength(2 + 8);
    expect(lines[lines.length - 1]).toMatch(/^ *7 {2}2024-03-04T15:00:00\.000Z {2}reconcile +not yet in DuckDB$/);
    // columns line up: every row has the time where the header has it
    const at = lines[0].indexOf('time');
    for (const l of lines.slice(3)) expect(l.slice(at, at + 24)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('orders: the latest spec (a modify) with status and fills; events, fills and risk', () => {
    const orders = cli(file, 'orders');
    expect(orders.code, orders.stderr).toBe(0);
    const row2 = orders.stdout.split('\n').find((l) => /^ *2 /.test(l))!;
    expect(row2).toMatch(/99\.5 .* APPROVED .* modified/);
    const events = cli(file, 'events', '--json', '--limit', '3');
    expect(events.code, events.stderr).toBe(0);
    const rows = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.seq)).toEqual([11, 12, 13]); // the last three, two of them only in the write-ahead file
    expect(rows[2]).toMatchObject({ order: 7, from: 'RISK_CHECK', to: 'APPROVED', time: '2024-03-04T14:37:00.000Z' });
    const risk = cli(file, 'risk', '--json');
    expect(JSON.parse(risk.stdout.split('\n')[0])).toMatchObject({ check: 'maxOrderValue', value: 'Infinity', limit: '-Infinity' });
    const old = cli(file, '--run', 'run-old', 'fills');
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout.trim().split('\n')).toHaveLength(2 + 2);
  });

  it('errors name the file and what to do, exit 1', async () => {
    const missing = cli(path.join(dir, 'nope.duckdb'), 'orders');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no such journal file: ${path.join(dir, 'nope.duckdb')}`);

    const run = cli(file, '--run', 'zz', 'orders');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} has no run 'zz'; its runs (latest first): run-new, run-old`);

    const table = cli(file, 'trades');
    expect(table.code).toBe(1);
    expect(table.stderr).toContain(`unknown table 'trades': use one of orders, fills, events, logs, risk`);

    const usage = cli(file);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/give a journal file and a table[\s\S]*usage: npm run journal/);

    const other = path.join(dir, 'market.duckdb');
    const db = await DuckDBInstance.create(other);
    const conn = await db.connect();
    await conn.run('CREATE TABLE bars (symbol VARCHAR)');
    conn.closeSync();
    db.closeSync();
    const notJournal = cli(other, 'orders');
    expect(notJournal.code).toBe(1);
    expect(notJournal.stderr).toContain(`${other} is not a journal`);
  });
});
