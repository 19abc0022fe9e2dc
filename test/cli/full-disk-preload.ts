// Preloaded into a CLI child process (node --import tsx --import this-file scripts/backtest.ts ...): from the
// start, every fs.writeSync on a descriptor whose file name matches TB_FULL_DISK_MATCH (a regular
// expression) goes to /dev/full instead, so the kernel fails it with a real ENOSPC, as on a full disk.
// Other files (the journal, the data) are written normally. With TB_FULL_DISK_SKIP=N, the first N such
// writes still go to their file (the disk fills up later in the run).
import fs, { constants, openSync, readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const match = process.env.TB_FULL_DISK_MATCH;
if (match) {
  const re = new RegExp(match);
  const full = openSync('/dev/full', constants.O_WRONLY);
  const real = fs.writeSync;
  let skip = Number(process.env.TB_FULL_DISK_SKIP ?? 0);
  const onMatching = (fd: number): boolean => {
    try {
      return re.test(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;
    }
  };
  const target = (fd: number): number => (onMatching(fd) ? (skip-- > 0 ? fd : full) : fd);
  fs.writeSync = ((fd: number, ...rest: unknown[]) => (real as (...a: unknown[]) => number)(target(fd), ...rest)) as typeof fs.writeSync;
  syncBuiltinESMExports();
}
