// Writes a run's outputs all or nothing: report.json and report.html are streamed to temporary files beside
// their final names (piece by piece, never one big string), the journal is written in one transaction, and
// only then are the temporary files renamed over the old ones. A failure anywhere removes the temporary
// files and leaves the previous outputs as they were, with a message naming the file and the cause.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { lockHolder } from '../data/store-errors.ts';
import { renderReportHtmlChunks } from './html.ts';
import { jsonChunks } from './json-stream.ts';
import type { Report } from './report-types.ts';

let tempCounter = 0;

/** The report as report.json text: 2-space indent, keys in the order the report was built, trailing newline. */
export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** reportJson(report) in pieces (the same bytes once joined). */
export function* reportJsonChunks(report: Report): Generator<string> {
  yield* jsonChunks(report, 2);
  yield '\n';
}

// ---- failures -------------------------------------------------------------------------------

/** A run output that could not be written: `message` says which file and why, for a person. */
export class OutputError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

const CAUSES: Record<string, string> = {
  ENOSPC: 'the disk is full (ENOSPC)',
  EDQUOT: 'the disk quota is used up (EDQUOT)',
  EFBIG: 'the file is larger than this file system or the process allows (EFBIG)',
  EACCES: 'permission denied (EACCES)',
  EPERM: 'the operation is not permitted (EPERM)',
  EROFS: 'the file system is read-only (EROFS)',
  EIO: 'an input/output error of the disk (EIO)',
  ENOTDIR: 'a part of the path is a file, not a folder (ENOTDIR)',
  EISDIR: 'the path is a folder (EISDIR)',
  EMFILE: 'the process has too many open files (EMFILE)',
};

/** DuckDB reports operating-system failures as text; these are the ones worth naming. */
const DUCKDB_TEXT: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/File too large/i, 'EFBIG'],
  [/Permission denied/i, 'EACCES'],
  [/Read-only file system/i, 'EROFS'],
];

export interface OutputFailureOptions {
  /** what the person can do about a full disk, e.g. 'use --out on another disk' */
  elsewhere?: string;
  /** for a locked database, e.g. 'use --journal with another file' */
  otherFile?: string;
  /** whether the previous outputs are known to be untouched (true unless a rename already happened) */
  intact?: boolean;
  /** says what became of the previous state instead of the outputs' wording (e.g. an import's rollback) */
  outcome?: string;
}

/**
 * A clear, one-line message for a failed write of `file`: which file, in which folder, what the cause is
 * (an errno code, or DuckDB's text for a full disk or a lock held by another process), whether the
 * previous outputs are intact, and what to do. No stack trace.
 */
export function describeOutputFailure(err: unknown, file: string, o: OutputFailureOptions = {}): OutputError {
  if (err instanceof OutputError) return err;
  const e = err as NodeJS.ErrnoException;
  const text = String(e?.message ?? err);
  const lock = lockHolder(text);
  const code = typeof e?.code === 'string' && e.code in CAUSES ? e.code : DUCKDB_TEXT.find(([re]) => re.test(text))?.[1];
  const where = `${path.basename(file)} in ${path.dirname(file)}`;
  const after =
    o.outcome ??
    (o.intact === false ? 'the outputs already renamed are new, the rest are the previous ones' : 'nothing was replaced: the previous outputs are intact');
  if (!lock && code === undefined && /^cannot (write|open) /.test(text) && text.includes(file)) {
    // already a message for a person about this very file (e.g. the store's lock diagnosis): keep it whole
    const own = text.trim().replace(/\.$/, '');
    return new OutputError(`${own}. ${after[0].toUpperCase()}${after.slice(1)}.`, file, undefined);
  }
  let cause: string;
  let todo: string;
  if (lock) {
    cause = `it is locked by another process (${lock.exe}, PID ${lock.pid})`;
    todo = `Stop that process (or wait for it to finish)${o.otherFile ? ` or ${o.otherFile}` : ''}`;
  } else if (code !== undefined) {
    cause = CAUSES[code];
    todo =
      code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
        ? `Free space${o.elsewhere ? ` or ${o.elsewhere}` : ''}`
        : `Check the folder's permissions and the disk${o.elsewhere ? `, or ${o.elsewhere}` : ''}`;
  } else {
    // first line only: DuckDB messages can carry a stack or a long hint after it
    cause = text.split('\n')[0];
    todo = '';
  }
  return new OutputError(`cannot write ${where}: ${cause}; ${after}${todo ? `. ${todo}` : ''}`, file, lock ? 'ELOCKED' : code);
}

// ---- streamed, staged files -----------------------------------------------------------------

/** Pieces are encoded into a buffer of this many bytes, written with one system call when full. */
const WRITE_BUFFER = 1 << 20;

/** A UTF-16 code unit takes at most this many bytes in UTF-8 (a surrogate pair, two units, takes four). */
const UTF8_MAX = 3;

let writeBuffer: Buffer | undefined;

function writeAllSync(fd: number, b: Uint8Array, length: number, from = 0): void {
  let off = from;
  while (off < length) off += fs.writeSync(fd, b, off, length - off);
}

function writeTextSync(fd: number, text: string): void {
  // a string is encoded by the write itself (no Buffer on the heap); a short write goes on from a Buffer
  const written = fs.writeSync(fd, text);
  if (written >= Buffer.byteLength(text, 'utf8')) return;
  const b = Buffer.from(text, 'utf8');
  writeAllSync(fd, b, b.length, written);
}

/** A file written under a temporary name beside `final`, not yet in place. */
export interface StagedFile {
  final: string;
  temp: string;
}

/**
 * Streams `chunks` into a new temporary file beside `final` (synced to disk); returns it staged. On any
 * failure the temporary file is removed and a describeOutputFailure error names `final`.
 */
export function stageFile(final: string, chunks: Iterable<string>, o: OutputFailureOptions = {}): StagedFile {
  const temp = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.${++tempCounter}.tmp`);
  let fd = -1;
  try {
    fd = fs.openSync(temp, 'w');
    // each piece is encoded straight into one reused buffer: no string of the batch, no Buffer per write (the
    // garbage of both grew the heap by tens of MB while a big report was staged)
    const buf = (writeBuffer ??= Buffer.allocUnsafe(WRITE_BUFFER));
    let used = 0;
    const put = (piece: string): void => {
      if (piece.length * UTF8_MAX > WRITE_BUFFER - used) {
        writeAllSync(fd, buf, used);
        used = 0;
        if (piece.length * UTF8_MAX > WRITE_BUFFER) {
          // a big piece (the plotly bundle) is written as it is
          writeTextSync(fd, piece);
          return;
        }
      }
      used += buf.write(piece, used, 'utf8');
    };
    // a surrogate pair split between two pieces is encoded whole: its high half waits for the next piece
    let high = '';
    for (const chunk of chunks) {
      const piece = high === '' ? chunk : high + chunk;
      const last = piece.charCodeAt(piece.length - 1);
      high = last >= 0xd800 && last <= 0xdbff ? piece[piece.length - 1] : '';
      put(high === '' ? piece : piece.slice(0, -1));
    }
    put(high);
    writeAllSync(fd, buf, used);
    fs.fsyncSync(fd);
    const closing = fd;
    fd = -1;
    fs.closeSync(closing);
    return { final, temp };
  } catch (err) {
    if (fd >= 0) {
      try {
        fs.closeSync(fd);
      } catch {
        // the write's error is the one to report
      }
    }
    fs.rmSync(temp, { force: true });
    throw describeOutputFailure(err, final, o);
  }
}

/** Removes staged files that were not committed (idempotent). */
export function discardStaged(files: readonly StagedFile[]): void {
  for (const f of files) fs.rmSync(f.temp, { force: true });
}

/** Renames staged files into place, in order; on a failure the rest are discarded. */
export function commitStaged(files: readonly StagedFile[], o: OutputFailureOptions = {}): void {
  for (let i = 0; i < files.length; i++) {
    try {
      fs.renameSync(files[i].temp, files[i].final);
    } catch (err) {
      discardStaged(files.slice(i));
      throw describeOutputFailure(err, files[i].final, { ...o, intact: i === 0 });
    }
  }
}

const STAGED_NAME = /^\.(.+)\.(\d+)\.\d+\.tmp$/;

/**
 * Removes temporary files that runs killed while writing (kill -9, a power cut) left in `dir`: those whose
 * process is gone. Files of a live process (another run writing now) are left alone.
 */
export function removeStaleStaged(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = STAGED_NAME.exec(name);
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

/** Which report files a run writes: both, one, or none (the journal alone). */
export type ReportMode = 'all' | 'json' | 'html' | 'none';
export const REPORT_MODES: readonly ReportMode[] = ['all', 'json', 'html', 'none'];

/** The report files of `mode`, by name. */
function reportFiles(mode: ReportMode): { json: boolean; html: boolean } {
  return { json: mode === 'all' || mode === 'json', html: mode === 'all' || mode === 'html' };
}

/**
 * report.json and report.html of `report` (or only the one `mode` asks for), staged in `dir` (created if
 * needed). Only the files staged are computed: without report.html no figure is built.
 */
export function stageReport(dir: string, report: Report, o: OutputFailureOptions = {}, mode: ReportMode = 'all'): StagedFile[] {
  const want = reportFiles(mode);
  if (!want.json && !want.html) {
    removeStaleStaged(dir);
    return [];
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw describeOutputFailure(err, path.join(dir, want.json ? 'report.json' : 'report.html'), o);
  }
  removeStaleStaged(dir);
  const staged: StagedFile[] = [];
  try {
    if (want.json) staged.push(stageFile(path.join(dir, 'report.json'), reportJsonChunks(report), o));
    if (want.html) staged.push(stageFile(path.join(dir, 'report.html'), renderReportHtmlChunks(report), o));
    return staged;
  } catch (err) {
    discardStaged(staged);
    throw err;
  }
}

/** Writes `dir/report.json` and `dir/report.html` (creating `dir`), streamed and all or nothing; returns their paths. */
export async function writeReport(dir: string, report: Report): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const staged = stageReport(dir, report);
  commitStaged(staged);
  return { json: staged[0].final, html: staged[1].final };
}

/**
 * A run's outputs, all or nothing: report.json and report.html (those `reports` asks for, default both)
 * staged in `dir`, then `journal.write()` (one transaction), then the reports renamed into place and a report
 * file not asked for removed from `dir` (left there, it would describe an earlier run beside the new journal).
 * If anything fails before the renames, the staged files are removed, a journal file this call created is
 * removed too, the previous outputs stay as they were, and the error says which file failed and why.
 */
export async function writeRunOutputs(o: {
  dir: string;
  report: Report;
  reports?: ReportMode;
  journal?: { path: string; write: () => Promise<void> };
  failure?: OutputFailureOptions;
}): Promise<{ json?: string; html?: string; journal?: string; removed: string[] }> {
  const want = reportFiles(o.reports ?? 'all');
  const staged = stageReport(o.dir, o.report, o.failure, o.reports);
  if (o.journal) {
    const existed = fs.existsSync(o.journal.path);
    try {
      await o.journal.write();
    } catch (err) {
      discardStaged(staged);
      if (!existed) for (const f of [o.journal.path, `${o.journal.path}.wal`]) fs.rmSync(f, { force: true });
      throw describeOutputFailure(err, o.journal.path, o.failure);
    }
  }
  commitStaged(staged, o.failure);
  const json = path.join(o.dir, 'report.json');
  const html = path.join(o.dir, 'report.html');
  const removed: string[] = [];
  for (const file of [want.json ? undefined : json, want.html ? undefined : html]) {
    if (file === undefined || !fs.existsSync(file)) continue;
    try {
      fs.rmSync(file, { force: true });
    } catch (err) {
      throw describeOutputFailure(err, file, { ...o.failure, intact: false });
    }
    removed.push(file);
  }
  return { ...(want.json ? { json } : {}), ...(want.html ? { html } : {}), ...(o.journal ? { journal: o.journal.path } : {}), removed };
}
