// A reader that keeps a journal open (read-only) for a while, as a notebook might. argv: file ms
import { openJournalDb, retryLocked } from '../../engine/journal/filler.ts';

const [file, ms] = process.argv.slice(2);
const s = await retryLocked(() => openJournalDb(file, { readOnly: true }), 10_000);
process.stdout.write('open\n');
await new Promise((r) => setTimeout(r, Number(ms)));
await s.close();
