import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRate, sruThreshold } from '../../src/train/schedule';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('step schedule: the paper recipe, lr 0.05 ×0.1 at epochs 100 and 150 of 200', () => {
  const c = { lr: 0.05, epochs: 200, schedule: 'step' as const };
  close(learningRate(c, 0), 0.05);
  close(learningRate(c, 99), 0.05);
  close(learningRate(c, 100), 0.005);
  close(learningRate(c, 149), 0.005);
  close(learningRate(c, 150), 0.0005);
  close(learningRate(c, 199), 0.0005);
});

test('step schedule milestones are floor(epochs/2) and floor(3·epochs/4), like the PyTorch reference script', () => {
  const c = { lr: 0.1, epochs: 10, schedule: 'step' as const };
  assert.deepEqual([...Array(10).keys()].map((e) => +learningRate(c, e).toPrecision(6)), [0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.001]);
});

test('short runs: milestones are at least epoch 1, so epoch 0 always trains at the full lr', () => {
  assert.equal(learningRate({ lr: 0.05, epochs: 1, schedule: 'step' }, 0), 0.05);
  assert.deepEqual([0, 1].map((e) => +learningRate({ lr: 0.05, epochs: 2, schedule: 'step' }, e).toPrecision(6)), [0.05, 0.0005]);
  assert.deepEqual([0, 1, 2].map((e) => +learningRate({ lr: 0.05, epochs: 3, schedule: 'step' }, e).toPrecision(6)), [0.05, 0.005, 0.0005]);
});

test('cosine schedule: lr at 0, half at the middle, near 0 at the end', () => {
  const c = { lr: 0.05, epochs: 200, schedule: 'cosine' as const };
  close(learningRate(c, 0), 0.05);
  close(learningRate(c, 100), 0.025);
  close(learningRate(c, 50), 0.05 * 0.5 * (1 + Math.SQRT1_2));
  assert.ok(learningRate(c, 199) < 1e-5 && learningRate(c, 199) > 0);
});

test('SRU threshold warm-up: min(0.5, 0.3 + 0.2·epoch/epochs); without it the fixed threshold', () => {
  const c = { threshold: 0.45, thresholdWarmup: true, epochs: 200 };
  close(sruThreshold(c, 0), 0.3);
  close(sruThreshold(c, 100), 0.4);
  close(sruThreshold(c, 150), 0.45);
  close(sruThreshold(c, 200), 0.5);
  close(sruThreshold({ ...c, thresholdWarmup: false }, 0), 0.45);
});
