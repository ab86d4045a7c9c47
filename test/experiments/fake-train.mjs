// A stand-in for the train CLI in the sweep-runner tests: same flags and run-folder files, no training.
// --fake ok | fail | crash-once | nan | slow   picks the behaviour; every call is logged to OUT/invocations.txt.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const out = flag('--out');
const mode = flag('--fake') ?? 'ok';
const epochs = Number(flag('--epochs') ?? 3);
const budget = Number(flag('--budget-minutes') ?? 0);
mkdirSync(out, { recursive: true });
appendFileSync(join(out, 'invocations.txt'), argv.join(' ') + '\n');
writeFileSync(join(out, 'config.json'), JSON.stringify({ epochs, budgetMinutes: budget, conv: flag('--conv') ?? 'standard' }));
console.log(`fake trainer: ${mode}, out ${out}`);

const summary = (status, extra = {}) =>
  writeFileSync(join(out, 'summary.json'), JSON.stringify({
    status, message: `fake ${status}`, epochsTrained: epochs, epochsPlanned: epochs, bestTestAcc: 0.5, finalTestAcc: 0.45,
    params: 1000, flops: 2e6, dataLabel: 'CIFAR-10 (JPEG-75 copy)', backend: 'cpu', machine: 'test box', wallSeconds: 12, ...extra,
  }));
const metrics = (n) => {
  for (let e = 1; e <= n; e++) appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ epoch: e, testAcc: 0.1 * e, epochSeconds: 4 }) + '\n');
};

if (mode === 'fail') {
  console.log('loading data');
  console.error('Error: boom (the fake trainer failed on purpose)');
  process.exit(1);
} else if (mode === 'crash-once' && !existsSync(join(out, 'checkpoint'))) {
  mkdirSync(join(out, 'checkpoint'));
  metrics(1);
  console.error('killed mid-run');
  process.exit(3);
} else if (mode === 'slow' && !argv.includes('--resume')) {
  // Train "forever"; on SIGINT/SIGTERM write a checkpoint and an 'interrupted' summary, like the trainer.
  metrics(1);
  const stop = (sig) => {
    mkdirSync(join(out, 'checkpoint'), { recursive: true });
    summary('interrupted', { message: `stopped by ${sig}`, epochsTrained: 1 });
    appendFileSync(join(out, 'signals.txt'), sig + '\n');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  writeFileSync(join(out, 'started'), '');
  setInterval(() => {}, 1000);
} else if (mode === 'nan') {
  metrics(1);
  summary('nan', { message: 'loss became NaN at epoch 2' });
  process.exit(1);
} else {
  if (!argv.includes('--resume')) metrics(epochs);
  else metrics(epochs - 1); // the crash kept epoch 1
  summary(budget > 0 ? 'budget' : 'done');
}
