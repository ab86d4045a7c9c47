import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportTable } from '../../src/cli/main';
import type { TrainSummary } from '../../src/train/train';

test('npm start report: one Markdown row per model; a run without a finished epoch shows no accuracy', () => {
  const base: TrainSummary = {
    status: 'done', message: '', epochsTrained: 2, epochsPlanned: 2, bestTestAcc: 0.148, finalTestAcc: 0.14, params: 272474,
    flops: 40813184, dataLabel: 'CIFAR-10 (JPEG-75 copy)', backend: 'native', machine: 'x', wallSeconds: 114, imagesPerSec: 12.34, out: 'runs/start/standard',
  };
  const table = reportTable([
    { label: 'ResNet-20', s: base },
    { label: 'SCConv-ResNet-20', s: { ...base, status: 'budget', epochsTrained: 0, bestTestAcc: 0, finalTestAcc: NaN, wallSeconds: 327, imagesPerSec: 0.66 } },
  ]).split('\n');
  assert.equal(table.length, 4);
  assert.equal(table[2], '| ResNet-20 | 0.272M | 40.81 | 2/2 | 14.8% | 14.0% | 12.3 | 1:54 | done |');
  assert.equal(table[3], '| SCConv-ResNet-20 | 0.272M | 40.81 | 0/2 | - | - | 0.7 | 5:27 | budget |');
});
