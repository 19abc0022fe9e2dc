// The worker thread of a LiveJournal: fills its DuckDB file from the write-ahead lines the journal posts.
import { parentPort, workerData } from 'node:worker_threads';
import { Filler, openJournalDb, type FromWorker } from './filler.ts';

const { file, retryMs } = workerData as { file: string; retryMs: number };
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const filler = new Filler({
  connect: () => openJournalDb(file, { ensure: false }),
  retryMs,
  applied: (g) => post({ k: 'applied', g }),
  failed: (message, locked) => post({ k: 'failed', message, locked }),
});

port.on('message', (m: { k: string; text?: string; kick?: boolean }) => {
  switch (m.k) {
    case 'lines':
      filler.push(m.text!, m.kick!);
      break;
    case 'pause':
      void filler.pause().then(() => post({ k: 'paused' }));
      break;
    case 'resume':
      filler.resume();
      break;
    case 'exit':
      void filler.stop().then(() => {
        post({ k: 'exited' });
        port.close();
      });
      break;
  }
});
