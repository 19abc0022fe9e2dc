// A runner that dies: writes steps [0, a) and flushes them, writes steps [a, b) and kills itself (kill -9)
// before they reach DuckDB. argv: file runId a b
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { step } from './entries.ts';

const [file, runId, a, b] = process.argv.slice(2);
const journal = await LiveJournal.open(file, { flushMs: 3_600_000 });
for (let i = 0; i < Number(a); i++) journal.write(step(runId, i));
await journal.flush();
for (let i = Number(a); i < Number(b); i++) journal.write(step(runId, i));
process.stdout.write(`${JSON.stringify(journal.status)}\n`, () => process.kill(process.pid, 'SIGKILL'));
