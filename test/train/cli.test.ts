import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { helpText, parseTrainArgs } from '../../src/train/args';
import { resolveConfig } from '../../src/train/config';
import { runDir } from './helpers';

test('flags parse to TrainConfig keys: --key value, --key=value, booleans, --resume', () => {
  const a = parseTrainArgs(['--depth', '56', '--conv=ghost', '--max-train', '500', '--lr', '0.1', '--threshold-warmup', '--no-augment', '--resume', '--budget-minutes', '2.5']);
  assert.deepEqual(a.config, { depth: 56, conv: 'ghost', maxTrain: 500, lr: 0.1, thresholdWarmup: true, augment: false, budgetMinutes: 2.5 });
  assert.equal(a.resume, true);
  assert.deepEqual(parseTrainArgs(['--augment=false']).config, { augment: false });
});

test('unknown flags and bad values are errors naming the flag and the valid values', () => {
  assert.throws(() => parseTrainArgs(['--dpeth', '20']), /train expects flags among --depth, --width, .*--resume, --config, --help, but received --dpeth\./);
  assert.throws(() => parseTrainArgs(['--conv', 'sc']), /--conv expects one of standard, scconv, ghost, octave, but received "sc"\./);
  assert.throws(() => parseTrainArgs(['--scconv-parts', 'sru+cru']), /--scconv-parts expects one of sru-cru, sru, cru, cru-sru, parallel, but received "sru\+cru"\./);
  assert.throws(() => parseTrainArgs(['--schedule', 'linear']), /--schedule expects one of step, cosine/);
  assert.throws(() => parseTrainArgs(['--epochs', '1.5']), /--epochs expects an integer >= 1, but received "1\.5"/);
  assert.throws(() => parseTrainArgs(['--lr', 'fast']), /--lr expects a number > 0, but received "fast"/);
  assert.throws(() => parseTrainArgs(['--batch']), /--batch expects a value \(an integer >= 1\), but received nothing/);
  assert.throws(() => parseTrainArgs(['--out', '--resume']), /--out expects a value/);
  assert.throws(() => parseTrainArgs(['20']), /flags of the form --name value, but received "20"/);
  assert.throws(() => parseTrainArgs(['--resume=yes']), /--resume expects no value/);
  // Values that parse but are out of range are caught by resolveConfig, with the same form.
  assert.throws(() => resolveConfig(parseTrainArgs(['--depth', '21']).config), /TrainConfig expects depth 6n \+ 2 \(8, 20, 32, 44, 56, 110\), but received 21/);
  assert.throws(() => resolveConfig(parseTrainArgs(['--alpha', '1']).config), /alpha a number in \(0, 1\), but received 1/);
  assert.match(helpText(), /--schedule step\|cosine +step: x0\.1 at 50% and 75% of the epochs; cosine: to 0; default "step"/);
  assert.match(helpText(), /--epochs N +200 in the paper; an integer >= 1, default 200/);
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
