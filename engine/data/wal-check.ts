// The write-ahead log DuckDB keeps beside a database file: whether the last writer left one, and whether
// its last commit is whole (DuckDB drops a cut-off commit silently).
import { closeSync, copyFileSync, openSync, readSync, statSync } from 'node:fs';

export interface WalState {
  file: string;
  bytes: number;
  /** 'whole': every entry complete and the last one ends a commit; 'torn': a commit is cut off at the end */
  state: 'whole' | 'torn' | 'empty' | 'unknown';
  /** complete commits (WAL_FLUSH entries) */
  commits: number;
  /** bytes after the last complete commit (DuckDB ignores them) */
  tailBytes: number;
}

/**
 * Walks a DuckDB write-ahead log (format version 2, DuckDB 1.x unencrypted): a header (the serialized
 * WAL_VERSION entry, not checksummed), then entries of [u64 size][u64 checksum][size bytes], a commit
 * ending with a WAL_FLUSH entry. DuckDB 1.5 replays complete commits and silently skips a cut-off one,
 * so a truncated .wal loses its last commit without a word; this finds that cut.
 */
export function inspectWal(file: string): WalState {
  const bytes = statSync(file).size;
  const unknown: WalState = { file, bytes, state: 'unknown', commits: 0, tailBytes: 0 };
  if (bytes === 0) return { ...unknown, state: 'empty' };
  const fd = openSync(file, 'r');
  try {
    // the header is small (at most ~60 bytes with the optional database identifier)
    const head = Buffer.alloc(Math.min(bytes, 256));
    readSync(fd, head, 0, head.length, 0);
    let at = 0;
    const varint = (): number | undefined => {
      let v = 0;
      for (let shift = 0; shift <= 63; shift += 7) {
        if (at >= head.length) return undefined;
        const b = head[at++]!;
        v += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return v;
      }
      return undefined;
    };
    // field 100 wal_type = 98 (WAL_VERSION), 101 version, [102 database identifier list], [103 checkpoint iteration], 0xFFFF
    let version: number | undefined;
    for (;;) {
      if (at + 2 > head.length) return head.length === bytes ? { ...unknown, state: 'torn', tailBytes: bytes } : unknown;
      const field = head.readUInt16LE(at);
      at += 2;
      if (field === 0xffff) break;
      if (field === 100) {
        if (varint() !== 98) return unknown;
      } else if (field === 101) {
        version = varint();
      } else if (field === 102) {
        const n = varint();
        if (n === undefined || n > 64) return unknown;
        for (let i = 0; i < n; i++) if (varint() === undefined) return unknown;
      } else if (field === 103) {
        if (varint() === undefined) return unknown;
      } else return unknown;
    }
    if (version !== 2) return unknown; // 3 is encrypted, with another framing
    // entries: [u64 size][u64 checksum][payload]; a payload starts with field 100 (wal_type), 100 = WAL_FLUSH
    const entry = Buffer.alloc(19);
    let commits = 0;
    let committedAt = at;
    let pos = at;
    while (pos + 16 <= bytes) {
      const got = readSync(fd, entry, 0, 19, pos);
      if (got < 16) break;
      const size = Number(entry.readBigUInt64LE(0));
      if (pos + 16 + size > bytes) break;
      if (size >= 3 && got === 19 && entry.readUInt16LE(16) === 100 && entry[18] === 100) {
        commits++;
        committedAt = pos + 16 + size;
      }
      pos += 16 + size;
    }
    const tailBytes = bytes - committedAt;
    if (commits === 0 && tailBytes === 0) return { file, bytes, state: 'empty', commits, tailBytes };
    return { file, bytes, state: tailBytes === 0 ? 'whole' : 'torn', commits, tailBytes };
  } finally {
    closeSync(fd);
  }
}

export function walWarning(dbPath: string, w: WalState, readOnly: boolean): string | undefined {
  if (w.state === 'empty') return undefined;
  const where = readOnly ? ' in memory (at every read-only open, until an import folds the .wal into the file)' : '';
  const lead = `${dbPath}: found ${w.file} (${w.bytes} bytes): the last process that wrote the database did not finish cleanly (killed or crashed before its checkpoint).`;
  if (w.state === 'whole') {
    return `${lead} Its ${w.commits} commit${w.commits === 1 ? ' is' : 's are'} complete and applied${readOnly ? where : ', and written into the file now'}.`;
  }
  if (w.state === 'torn') {
    let kept = '';
    if (!readOnly) {
      try {
        copyFileSync(w.file, `${w.file}.torn`);
        kept = ` A copy of the .wal is kept as ${w.file}.torn.`;
      } catch {
        // the warning stands without the copy
      }
    }
    return (
      `${lead} It ends inside a commit: its last ${w.tailBytes} bytes are a commit cut off (the .wal was truncated, or its writer was killed while committing). ` +
      (w.commits > 0
        ? `DuckDB applies the ${w.commits} complete commit${w.commits === 1 ? '' : 's'} before it${where} and silently drops the cut-off one`
        : `DuckDB silently drops it`) +
      `, so the last write is NOT in the database. ` +
      `Re-run the last import into ${dbPath} (or restore a backup).${kept}`
    );
  }
  return `${lead} DuckDB applies what it can read of it${where}; its layout is not one this check knows, so whether its last commit is whole is not known. Re-run the last import to be sure.`;
}
