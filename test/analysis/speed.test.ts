import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { median, timeInference } from '../../src/analysis/speed';

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
  const t = await timeInference(model, x, 3, 2);
  assert.equal(calls, 5);
  assert.equal(t.times.length, 3);
  assert.equal(t.batch, 5);
  assert.equal(t.msPerBatch, median(t.times));
  assert.ok(Math.abs(t.imagesPerSec - 5000 / t.msPerBatch) < 1e-9);
  await assert.rejects(timeInference(model, x, 0), /timeInference expects steps to be an integer >= 1, but received 0/);
});
