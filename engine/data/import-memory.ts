// DuckDB's memory during an import: capped so that an import's memory does not grow with its files.
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import type { Store } from './store.ts';

/**
 * DuckDB's memory during an import. Staging, checks, sorts, joins and the write work within
 * WORK_MEMORY and spill to the database's temp directory beyond it (`<db>.tmp`); the new rows go to
 * the database file as they are written. So the import's memory does not grow with the files: the
 * process peaked at 490 to 520 MB for 1M to 10M daily bars (DuckDB uses some memory outside its limit,
 * and Node its own), and with 512 MB here at 610 to 880 MB, no faster.
 *
 * A database created when bars had a PRIMARY KEY (see SCHEMA in store.ts) keeps it, and its index
 * cannot spill: DuckDB holds the entries of a transaction's new rows in memory until it commits (60
 * to 90 bytes a row measured) and may load the stored rows' entries to check keys. There the write
 * phase gets INDEX_BYTES_PER_ROW more per row, and the commit runs under DuckDB's own limit. Should
 * the cap be short anyway (out of memory under it), the import runs once more without it.
 */
export const WORK_MEMORY = 256 * 2 ** 20;
export const INDEX_BYTES_PER_ROW = 128;

/** Whether bars has a key (a database created with the old schema) and so an index held in memory. */
export async function barsKeyed(store: Store): Promise<boolean> {
  const r = await store.conn.runAndReadAll(`
SELECT count(*) AS n FROM duckdb_constraints()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'bars'
  AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`);
  const idx = await store.conn.runAndReadAll(`
SELECT count(*) AS n FROM duckdb_indexes()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'bars'`);
  return Number(r.getRowObjectsJS()[0]!.n) + Number(idx.getRowObjectsJS()[0]!.n) > 0;
}

export class MemoryCap {
  private enabled: boolean;
  private changed = false;

  private constructor(
    private readonly store: Store,
    private readonly limitBytes: number | undefined,
    isDefault: boolean,
    /** bars has an index held in memory (see barsKeyed) */
    readonly keyed: boolean,
  ) {
    // A limit someone set is theirs (and DuckDB shows it rounded, so it could not be put back
    // exactly): caps only under DuckDB's default. An in-memory database holds its tables in memory
    // anyway and would spill to ./.tmp: no caps either.
    this.enabled = store.path !== ':memory:' && isDefault && limitBytes !== undefined;
  }

  static async open(store: Store, keyed: boolean): Promise<MemoryCap> {
    const limit = async (conn: DuckDBConnection) => String((await conn.runAndReadAll(`SELECT current_setting('memory_limit') AS m`)).getRowObjectsJS()[0]!.m);
    const current = await limit(store.conn);
    const probe = await DuckDBInstance.create(':memory:');
    let fallback: string;
    try {
      const conn = await probe.connect();
      fallback = await limit(conn);
      conn.closeSync();
    } finally {
      probe.closeSync();
    }
    return new MemoryCap(store, parseBytes(current), current === fallback, keyed);
  }

  get capped(): boolean {
    return this.enabled;
  }

  disable(): void {
    this.enabled = false;
  }

  /** Caps DuckDB's memory at `bytes`, never above its default. */
  async set(bytes: number): Promise<void> {
    if (!this.enabled) return this.restore();
    const cap = Math.floor(Math.min(bytes, this.limitBytes!));
    await this.store.conn.run(`SET memory_limit = '${cap}B'`);
    this.changed = true;
  }

  /**
   * Back to DuckDB's default limit, which it had. RESET alone puts the setting back but leaves the
   * buffer pool at the cap (DuckDB 1.5), so the limit is first set in bytes: the default as DuckDB
   * shows it (rounded down to 0.1 of a unit), plus 1%.
   */
  async restore(): Promise<void> {
    if (!this.changed) return;
    this.changed = false;
    await this.store.conn.run(`SET memory_limit = '${Math.ceil(this.limitBytes! * 1.01)}B'`);
    await this.store.conn.run('RESET memory_limit');
  }
}

/** '18.8 GiB', '512.0 MiB', '1.5 GB', '1000 bytes' -> bytes; undefined when unrecognised. */
function parseBytes(s: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([KMGT]i?B|B|bytes?)?\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = { K: 1, M: 2, G: 3, T: 4 }[unit[0] as 'K' | 'M' | 'G' | 'T'] ?? 0;
  const base = unit.includes('I') ? 1024 : 1000;
  const n = Number(m[1]) * base ** pow;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function isOutOfMemory(e: unknown): boolean {
  return /Out of Memory Error|failed to pin block|could not allocate block/i.test(String((e as Error)?.message ?? e));
}
