import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { channelCorrelation, channelStats, featureMap, fractionAbove } from '../../src/analysis/channel-stats';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('channelStats', () => {
  it('gives the mean and the batch-averaged spatial variance per channel', () => {
    // N=2, H=1, W=2, C=2: channel 0 maps [0, 2] and [4, 4]; channel 1 constant 3
    const x = tf.tensor4d([0, 3, 2, 3, 4, 3, 4, 3], [2, 1, 2, 2]);
    const s = channelStats(x);
    close(s.mean[0], 2.5);
    close(s.mean[1], 3);
    close(s.spatialVariance[0], (1 + 0) / 2); // var([0,2]) = 1, var([4,4]) = 0
    close(s.spatialVariance[1], 0);
    x.dispose();
  });

  it('rejects tensors that are not [N, H, W, C]', () => {
    const x = tf.zeros([2, 3]);
    assert.throws(() => channelStats(x as tf.Tensor4D), /channelStats expects a rank-4 \[N, H, W, C\] tensor, but received "shape \[2, 3\]"/);
    x.dispose();
  });
});

describe('channelCorrelation', () => {
  it('is 1 for copies, -1 for negated copies and 0 against a constant channel', () => {
    const a = [1, 2, 3, 5];
    const data: number[] = [];
    for (const v of a) data.push(v, 2 * v + 1, -v, 7);
    const x = tf.tensor4d(data, [1, 2, 2, 4]);
    const { matrix, meanAbs } = channelCorrelation(x);
    close(matrix[0][0], 1);
    close(matrix[0][1], 1);
    close(matrix[0][2], -1);
    close(matrix[0][3], 0);
    close(matrix[3][3], 0);
    // off-diagonal |r|: pairs (0,1)=1 (0,2)=1 (1,2)=1, three pairs with channel 3 = 0 → 3/6
    close(meanAbs, 0.5);
    x.dispose();
  });

  it('leaks no tensors', () => {
    const x = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    channelCorrelation(x);
    channelStats(x);
    fractionAbove(x, 0);
    featureMap(x, 1, 5);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});

describe('fractionAbove and featureMap', () => {
  it('counts positions above the threshold per channel', () => {
    const w = tf.tensor4d([0.9, 0.1, 0.6, 0.2, 0.4, 0.7, 0.5, 0.8], [1, 2, 2, 2]);
    const f = fractionAbove(w, 0.5);
    close(f[0], 2 / 4); // 0.9, 0.6 above; 0.4, 0.5 not (strict)
    close(f[1], 2 / 4); // 0.7, 0.8
    assert.deepEqual(featureMap(w, 0, 1).map((r) => r.map((v) => Math.round(v * 10))), [[1, 2], [7, 8]]);
    assert.throws(() => featureMap(w, 0, 2), /featureMap expects a channel in \[0, 2\), but received 2/);
    w.dispose();
  });
});

describe('pearson', () => {
  it('is ±1 for linear relations, 0 for a constant, and checks lengths', async () => {
    const { pearson } = await import('../../src/analysis/correlation');
    close(pearson([1, 2, 3], [2, 4, 6]), 1);
    close(pearson([1, 2, 3], [3, 2, 1]), -1);
    close(pearson([1, 2, 3], [5, 5, 5]), 0);
    close(pearson([1, 2, 3, 4], [1, 3, 2, 4]), 0.8);
    assert.throws(() => pearson([1, 2], [1]), /pearson expects two arrays of the same length ≥ 2, but received "lengths 2 and 1"/);
  });
});
