// A runner that dies before its journal is flushed: writes the options session's bars (with quotes) and fills (with
// reasons) of test/journal/quote-entries.ts, then kills itself (kill -9). argv: file runId
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { ASSIGNED, barEntries, fill, fillEntries, SETTLED } from './quote-entries.ts';

const [file, runId] = process.argv.slice(2);
const journal = await LiveJournal.open(file, { flushMs: 3_600_000 });
journal.write([...barEntries(runId), ...fillEntries(runId, [fill(0), fill(1), SETTLED, ASSIGNED])]);
process.stdout.write(`${JSON.stringify(journal.status)}\n`, () => process.kill(process.pid, 'SIGKILL'));
