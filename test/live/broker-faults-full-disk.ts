// A full disk for one open file: every write this thread makes to a descriptor open on `file` goes
// to /dev/full instead, so the kernel fails it with a real ENOSPC. Nothing is closed or reopened:
// swapping the descriptor itself (close, then open /dev/full under the same number) raced with the
// other threads of the process (DuckDB's, the journal filler's), which could take the number first.
// The journal's write-ahead file cannot simply be a symlink to /dev/full when LiveJournal.open()
// runs: open() reads the existing file first, and reading /dev/full never ends.
//
// Imported by test/live/broker-faults.test.ts, and preloaded into `npm run live` child processes
// (node --import tsx --import this-file scripts/live.ts ...) with
//   BROKER_FAULTS_WAL      the write-ahead file whose writes are to fail
//   BROKER_FAULTS_TRIGGER  a file the test creates when the disk is to fill up; the outcome is
//                          written to `<trigger>.done` ('ok <fd>' or 'failed: <why>')
import fs, { closeSync, constants, existsSync, openSync, readdirSync, readlinkSync, realpathSync, writeFileSync, writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

/** The descriptors of this process open on `file` (compared by real path). */
export function descriptorsOn(file: string): number[] {
  const target = realpathSync(file);
  const out: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === target) out.push(Number(name));
    } catch {
      // closed meanwhile (the descriptor readdir itself used)
    }
  }
  return out;
}

/**
 * From now on, fs.writeSync on a descriptor open on `file` writes to /dev/full (ENOSPC) in this
 * thread, for named imports too (syncBuiltinESMExports). Returns the descriptor it found on `file`
 * and a function that restores the real writeSync.
 */
export function fillDiskUnder(file: string): { fd: number; restore: () => void } {
  const fds = descriptorsOn(file);
  if (fds.length !== 1) throw new Error(`expected one descriptor open on ${file}, found ${fds.length} (${fds.join(', ')})`);
  const target = realpathSync(file);
  const full = openSync('/dev/full', constants.O_WRONLY);
  const real = fs.writeSync;
  const onFile = (fd: number): boolean => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === target;
    } catch {
      return false;
    }
  };
  fs.writeSync = ((fd: number, ...rest: unknown[]) => (real as (...a: unknown[]) => number)(onFile(fd) ? full : fd, ...rest)) as typeof fs.writeSync;
  syncBuiltinESMExports();
  return {
    fd: fds[0],
    restore: () => {
      fs.writeSync = real;
      syncBuiltinESMExports();
      closeSync(full);
    },
  };
}

/** Whether /dev/full is there and fails writes with ENOSPC, and /proc/self/fd lists descriptors (Linux). */
export function devFullWorks(): boolean {
  if (!existsSync('/proc/self/fd')) return false;
  let fd = -1;
  try {
    fd = openSync('/dev/full', constants.O_WRONLY);
    writeSync(fd, 'x');
    return false;
  } catch (e) {
    return fd >= 0 && (e as NodeJS.ErrnoException).code === 'ENOSPC';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

const wal = process.env.BROKER_FAULTS_WAL;
const trigger = process.env.BROKER_FAULTS_TRIGGER;
if (wal && trigger) {
  const timer = setInterval(() => {
    if (!existsSync(trigger) || !existsSync(wal) || descriptorsOn(wal).length === 0) return;
    clearInterval(timer);
    try {
      writeFileSync(`${trigger}.done`, `ok ${fillDiskUnder(wal).fd}\n`);
    } catch (e) {
      writeFileSync(`${trigger}.done`, `failed: ${(e as Error).message}\n`);
    }
  }, 2);
  timer.unref();
}
