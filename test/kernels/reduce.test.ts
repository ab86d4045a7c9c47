/** Reductions, Tile/BroadcastTo and batch norm (values and gradients) against cpu. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectFallback, gradsSameAsCpu, sameAsCpu, skip } from './helpers';

const axesCases: number[][] = [[0, 1, 2], [1, 2], [3], [0], [0, 1, 2, 3], [0, 2]];

test('sum, mean, max, min over axis blocks (keepDims or not): values match cpu', { skip }, () => {
  for (const kernel of ['Sum', 'Mean', 'Max', 'Min']) expectFallback(kernel); // axes [0, 2] are no block
  for (const shape of [[3, 5, 6, 4], [16, 16, 16, 37]]) {
    for (const axes of axesCases) {
      for (const keepDims of [false, true]) {
        const what = `${shape} axes ${axes} keepDims ${keepDims}`;
        sameAsCpu(`sum ${what}`, [{ shape }], (x) => tf.sum(x, axes, keepDims), 1e-4);
        sameAsCpu(`mean ${what}`, [{ shape }], (x) => tf.mean(x, axes, keepDims), 1e-4);
        sameAsCpu(`max ${what}`, [{ shape }], (x) => tf.max(x, axes, keepDims));
        sameAsCpu(`min ${what}`, [{ shape }], (x) => tf.min(x, axes, keepDims));
      }
    }
  }
});

test('sum and mean gradients (the native Mean gradient) match cpu', { skip }, () => {
  // Axes [0, 2] run on cpu, and so does their gradient's broadcast multiply and its Tile (no
  // broadcast the native Tile takes); so does a scalar's sum.
  for (const kernel of ['Sum', 'Mean', 'Multiply', 'Tile']) expectFallback(kernel);
  for (const axes of axesCases) {
    gradsSameAsCpu(`mean axes ${axes}`, [{ shape: [3, 5, 6, 4] }], (x) => tf.mean(x, axes));
    gradsSameAsCpu(`sum axes ${axes}`, [{ shape: [3, 5, 6, 4] }], (x) => tf.sum(x, axes, true));
  }
});

test('tile and broadcastTo match cpu (broadcasts natively, general tiles on cpu)', { skip }, () => {
  expectFallback('Tile');
  sameAsCpu('broadcast channel vector', [{ shape: [1, 1, 1, 5] }], (x) => tf.broadcastTo(x, [3, 4, 2, 5]));
  sameAsCpu('broadcast per example', [{ shape: [3, 1, 1, 5] }], (x) => tf.broadcastTo(x, [3, 4, 2, 5]));
  sameAsCpu('broadcast inner', [{ shape: [3, 4, 1] }], (x) => tf.broadcastTo(x, [3, 4, 6]));
  sameAsCpu('tile of full axes', [{ shape: [2, 3] }], (x) => tf.tile(x, [2, 3]));
  sameAsCpu('tile reps 1', [{ shape: [2, 3] }], (x) => tf.tile(x, [1, 1]));
  gradsSameAsCpu('tile gradient', [{ shape: [1, 3, 1] }], (x) => tf.tile(x, [2, 1, 4]));
});

test('batchNorm: values and gradients for x, mean, variance, offset, scale match cpu', { skip }, () => {
  const c = 6;
  const specs = [{ shape: [4, 5, 3, c] }, { shape: [c] }, { shape: [c], lo: 0.5, hi: 2 }, { shape: [c] }, { shape: [c] }];
  gradsSameAsCpu('batchNorm', specs, (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3), 2e-4);
  // (tfjs-core cannot differentiate batchNorm without a scale, so that case checks values only.)
  sameAsCpu('batchNorm without offset and scale', specs.slice(0, 3), (x, m, v) => tf.batchNorm(x, m, v, undefined, undefined, 1e-5), 2e-4);
  gradsSameAsCpu('batchNorm, large', [{ shape: [16, 16, 16, 16] }, { shape: [16] }, { shape: [16], lo: 0.5, hi: 2 }, { shape: [16] }, { shape: [16] }],
    (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3), 5e-4);
});

test('training-mode batch norm as tfjs-layers does it (moments, then batchNorm): gradients match cpu', { skip }, () => {
  gradsSameAsCpu('moments batchNorm', [{ shape: [8, 6, 6, 5] }, { shape: [5] }, { shape: [5] }], (x, gamma, beta) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, 1e-5));
  }, 5e-4);
});

test('batchNorm with per-example statistics falls back to cpu', { skip }, () => {
  expectFallback('FusedBatchNorm');
  sameAsCpu('batchNorm [n,1,1,c] stats', [{ shape: [2, 3, 3, 4] }, { shape: [2, 1, 1, 4] }, { shape: [2, 1, 1, 4], lo: 0.5, hi: 2 }],
    (x, m, v) => tf.batchNorm(x, m, v, undefined, undefined, 1e-3), 2e-4);
});

test('batch statistics computed outside the gradient tape are constants: the gradient does not fold them in', { skip }, () => {
  sameAsCpu('moments outside the tape', [{ shape: [6, 4, 4, 3] }, { shape: [3] }, { shape: [3] }], (x, gamma, beta) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const w = tf.tensor(Float32Array.from({ length: x.size }, (_, i) => Math.sin(i)), x.shape);
    return tf.grad((x2: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(x2, mean, variance, beta, gamma, 1e-5), w)))(x);
  }, 5e-4);
});
