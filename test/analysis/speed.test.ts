import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { inferenceRatios, median, throughputRatio, timeInference } from '../../src/analysis/speed';

test('median: the middle value, the upper middle one for an even count', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 3);
});

test('timeInference: steps timed passes after the warm-up, images per second from the median', async () => {
  const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3 })] });
  let calls = 0;
  const apply = model.apply.bind(model);
  model.apply = ((...a: Parameters<typeof apply>) => { calls++; return apply(...a); }) as typeof model.apply;
  const x = tf.zeros([5, 8, 8, 3]) as tf.Tensor4D;
  let callsAtWarmupEnd = -1;
  const t = await timeInference(model, x, 3, 2, () => { callsAtWarmupEnd = calls; });
  assert.equal(calls, 5);
  assert.equal(callsAtWarmupEnd, 2);
  assert.equal(t.times.length, 3);
  assert.equal(t.batch, 5);
  assert.equal(t.msPerBatch, median(t.times));
  assert.ok(Math.abs(t.imagesPerSec - 5000 / t.msPerBatch) < 1e-9);
  await assert.rejects(timeInference(model, x, 0), /timeInference expects steps to be an integer >= 1, but received 0/);
});

test('throughputRatio: a ÷ b to 3 decimals; null when either run is missing or not a positive number', () => {
  assert.equal(throughputRatio(282, 476), 0.592);
  assert.equal(throughputRatio(476, 476), 1);
  for (const [a, b] of [[undefined, 1], [1, undefined], [0, 1], [1, 0], [NaN, 1], [1, Infinity], ['1', 1], [-1, 2]]) {
    assert.equal(throughputRatio(a, b), null, `${a} ÷ ${b}`);
  }
});

test('inferenceRatios: per batch size of the first, null for a batch size the second lacks', () => {
  assert.deepEqual(inferenceRatios({ '1': { imagesPerSec: 48 }, '128': { imagesPerSec: 713 } },
    { '1': { imagesPerSec: 89 }, '128': { imagesPerSec: 1547 } }), { '1': 0.539, '128': 0.461 });
  assert.deepEqual(inferenceRatios({ '1': { imagesPerSec: 48 } }, undefined), { '1': null });
  assert.equal(inferenceRatios(undefined, { '1': { imagesPerSec: 48 } }), null);
});
