import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { helpText, parseTrainArgs } from '../../src/train/args';
import { resolveConfig } from '../../src/train/config';
import { runDir } from './helpers';

test('flags parse to TrainConfig keys: --key value, --key=value, booleans, --resume, --restart', () => {
  const a = parseTrainArgs(['--depth', '56', '--conv=ghost', '--max-train', '500', '--lr', '0.1', '--threshold-warmup', '--no-augment', '--resume', '--budget-minutes', '2.5']);
  assert.deepEqual(a.config, { depth: 56, conv: 'ghost', maxTrain: 500, lr: 0.1, thresholdWarmup: true, augment: false, budgetMinutes: 2.5 });
  assert.equal(a.resume, true);
  assert.equal(a.restart, false);
  assert.equal(parseTrainArgs(['--restart']).restart, true);
  assert.deepEqual(parseTrainArgs(['--augment=false']).config, { augment: false });
});

test('unknown flags and bad values are errors naming the flag and the valid values', () => {
  assert.throws(() => parseTrainArgs(['--dpeth', '20']), /train expects flags among --depth, --width, .*--restart, --resume, --config, --help, but received --dpeth\./);
  assert.throws(() => parseTrainArgs(['--conv', 'sc']), /--conv expects one of standard, scconv, ghost, octave, but received "sc"\./);
  assert.throws(() => parseTrainArgs(['--scconv-parts', 'sru+cru']), /--scconv-parts expects one of sru-cru, sru, cru, cru-sru, parallel, but received "sru\+cru"\./);
  assert.throws(() => parseTrainArgs(['--schedule', 'linear']), /--schedule expects one of step, cosine/);
  assert.throws(() => parseTrainArgs(['--epochs', '1.5']), /--epochs expects an integer >= 1 and <= 10000, but received "1\.5"/);
  assert.throws(() => parseTrainArgs(['--lr', 'fast']), /--lr expects a number in \(0, 10\), but received "fast"/);
  assert.throws(() => parseTrainArgs(['--batch']), /--batch expects a value \(an integer >= 1 and <= 4096\), but received nothing/);
  assert.throws(() => parseTrainArgs(['--out', '--resume']), /--out expects a value/);
  assert.throws(() => parseTrainArgs(['20']), /flags of the form --name value, but received "20"/);
  assert.throws(() => parseTrainArgs(['--resume=yes']), /--resume expects no value/);
  // Values that parse but are out of range are caught by resolveConfig, with the same form.
  assert.throws(() => resolveConfig(parseTrainArgs(['--depth', '21']).config), /TrainConfig expects depth 6n \+ 2 between 8 and 1202 \(8, 20, 32, 44, 56, 110\), but received 21/);
  assert.throws(() => resolveConfig(parseTrainArgs(['--alpha', '1']).config), /alpha a number in \(0, 1\), but received 1/);
  assert.match(helpText(), /--schedule step\|cosine +step: x0\.1 at 50% and 75% of the epochs; cosine: to 0; default "step"/);
  assert.match(helpText(), /--epochs N +200 in the paper; an integer >= 1 and <= 10000, default 200/);
  assert.match(helpText(), /--restart +delete the results and checkpoints in --out and start over/);
});

test('numeric flags have upper bounds (typos such as an extra zero), with messages from the spec', () => {
  const bad = (flags: string[], message: RegExp) => assert.throws(() => resolveConfig(parseTrainArgs(flags).config), message);
  bad(['--batch', '40960'], /TrainConfig expects batch an integer >= 1 and <= 4096, but received 40960\./);
  bad(['--width', '1600'], /TrainConfig expects width an integer >= 1 and <= 256, but received 1600\./);
  bad(['--depth', '1208'], /TrainConfig expects depth 6n \+ 2 between 8 and 1202 .*but received 1208\./);
  bad(['--epochs', '20000'], /epochs an integer >= 1 and <= 10000, but received 20000\./);
  bad(['--max-train', '50001'], /maxTrain an integer >= 0 and <= 50000, but received 50001\./);
  bad(['--max-test', '10001'], /maxTest an integer >= 0 and <= 10000, but received 10001\./);
  bad(['--lr', '50'], /lr a number in \(0, 10\), but received 50\./);
  bad(['--weight-decay', '5'], /weightDecay a number in \[0, 1\], but received 5\./);
  bad(['--seed', '1e300'], /seed an integer >= 0 and <= 9007199254740991, but received 1e\+300\./);
  bad(['--budget-minutes', '100000'], /budgetMinutes a number in \[0, 10080\], but received 100000\./);
  // the bounds themselves are valid
  const c = resolveConfig(parseTrainArgs(['--batch', '4096', '--width', '256', '--depth', '1202', '--epochs', '10000', '--max-train', '50000']).config);
  assert.deepEqual([c.batch, c.width, c.depth, c.epochs, c.maxTrain], [4096, 256, 1202, 10000, 50000]);
});

test('--config reads a JSON preset (keys starting with // are comments); later flags win', () => {
  const file = path.join(runDir() + '.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ '// epochs': 'one epoch', epochs: 1, conv: 'standard' }));
  assert.deepEqual(parseTrainArgs(['--config', file, '--epochs', '2']).config, { epochs: 2, conv: 'standard' });
  fs.writeFileSync(file, JSON.stringify({ epoch: 1 }));
  assert.throws(() => parseTrainArgs(['--config', file]), /expects keys among depth, .*but received "epoch"/);
  for (const preset of fs.readdirSync('configs')) resolveConfig(parseTrainArgs(['--config', path.join('configs', preset)]).config);
});

test('the CLI process exits 2 with the message on a bad flag', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--gate', 'maybe'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error: --gate expects one of soft, hard, but received "maybe"\./);
});
