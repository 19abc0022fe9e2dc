// Writes big log lines until the write-ahead file passes the process's file-size limit (ulimit -f, set by
// the test): prints how many writes succeeded and the error of the one that failed. argv: file
import { LiveJournal } from '../../engine/journal/live-journal.ts';

process.on('SIGXFSZ', () => undefined); // the write then fails with EFBIG instead of killing the process
const journal = await LiveJournal.open(process.argv[2], { flushMs: 3_600_000 });
const message = 'x'.repeat(200_000);
let ok = 0;
let error = '';
for (let i = 0; i < 1000 && !error; i++) {
  try {
    journal.write([{ t: 'log', runId: 'big', seq: i, ts: i, kind: 'info', message }]);
    ok++;
  } catch (e) {
    error = (e as Error).message;
  }
}
process.stdout.write(`${JSON.stringify({ ok, error })}\n`, () => process.exit(0));
