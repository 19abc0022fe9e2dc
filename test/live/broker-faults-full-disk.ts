// A full disk for one open file: the descriptor a process holds on `file` is made to refer to
// /dev/full (every write then fails with ENOSPC), keeping its number. The journal's write-ahead file
// cannot simply be a symlink to /dev/full when LiveJournal.open() runs: open() reads the existing
// file first, and reading /dev/full never ends (zeros until memory runs out). A real full disk lets
// open() succeed and fails the writes after it; this does the same to the live journal's descriptor.
//
// Imported by test/live/broker-faults.test.ts, and preloaded into `npm run live` child processes
// (node --import tsx --import this-file scripts/live.ts ...) with
//   BROKER_FAULTS_WAL      the write-ahead file whose descriptor is to be swapped
//   BROKER_FAULTS_TRIGGER  a file the test creates when the disk is to fill up; the outcome is
//                          written to `<trigger>.done` ('ok <fd>' or 'failed: <why>')
import { closeSync, constants, existsSync, openSync, readdirSync, readlinkSync, realpathSync, writeFileSync, writeSync } from 'node:fs';

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
 * Makes this process's one descriptor on `file` refer to /dev/full instead, under the same number
 * (close, then open /dev/full until the lowest free number is that one; all synchronous, so no other
 * JavaScript runs in between). Returns the descriptor. Throws if it cannot be done exactly.
 */
export function fillDiskUnder(file: string): number {
  const fds = descriptorsOn(file);
  if (fds.length !== 1) throw new Error(`expected one descriptor open on ${file}, found ${fds.length} (${fds.join(', ')})`);
  const fd = fds[0];
  closeSync(fd);
  const spare: number[] = [];
  try {
    for (;;) {
      const got = openSync('/dev/full', constants.O_WRONLY | constants.O_APPEND);
      if (got === fd) break;
      spare.push(got);
      if (got > fd) throw new Error(`descriptor ${fd} was taken by someone else while it was swapped (got ${got})`);
    }
  } finally {
    for (const x of spare) closeSync(x);
  }
  const now = readlinkSync(`/proc/self/fd/${fd}`);
  if (now !== '/dev/full') throw new Error(`descriptor ${fd} refers to ${now}, not /dev/full`);
  return fd;
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
      writeFileSync(`${trigger}.done`, `ok ${fillDiskUnder(wal)}\n`);
    } catch (e) {
      writeFileSync(`${trigger}.done`, `failed: ${(e as Error).message}\n`);
    }
  }, 2);
  timer.unref();
}
