// npm run seal -- DIR: seals a model exported elsewhere (scikit-learn, PyTorch) whose card.json is written by
// hand: checks the card against the graph, writes the card's semantic fields into the .onnx and updates the
// card's sha256. `npm run train` seals its models itself.
import { sealModel } from '../engine/ml/model-card.ts';
import { defineFlags, flagHelp, parseFlags } from './lib/flags.ts';

const FLAGS = defineFlags({});
const HELP = `usage: npm run seal -- DIR     (a folder with card.json and the .onnx file it names)
${flagHelp(FLAGS)}
A sealed model refuses any later edit of its card's semantic fields (README, "ML signals").`;

async function main(): Promise<void> {
  const { values, positionals } = parseFlags(FLAGS, { positionals: true });
  if (values.help) return void console.log(HELP);
  if (positionals.length !== 1) throw new Error(`name one model folder (got ${positionals.length})\n${HELP}`);
  const card = await sealModel(positionals[0]!);
  console.log(`sealed ${positionals[0]}: ${card.file} sha256 ${card.sha256}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
