import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { inferenceRatios, median, pairedSpeedRatios, throughputRatio, timedLoop, timeInference } from '../../src/analysis/speed';

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
  const t = await timeInference(model, x, { steps: 3, warmup: 2, afterWarmup: () => { callsAtWarmupEnd = calls; } });
  assert.equal(calls, 5);
  assert.equal(callsAtWarmupEnd, 2);
  assert.equal(t.times.length, 3);
  assert.equal(t.batch, 5);
  assert.equal(t.msPerBatch, median(t.times));
  assert.ok(Math.abs(t.imagesPerSec - 5000 / t.msPerBatch) < 1e-9);
  assert.equal((await timeInference(model, x, 4)).times.length, 4, 'a number is the count of timed passes');
  assert.equal(calls, 10, 'after one warm-up pass');
  await assert.rejects(timeInference(model, x, 0), /timedLoop expects steps to be an integer >= 1, but received 0/);
});

test('timedLoop: the warm-up and the timed passes each last at least their count and their seconds', async () => {
  const sleep = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
  let passes = 0, atWarmupEnd = -1, firstPass = 0, warmupMs = 0;
  const times = await timedLoop(async () => { if (passes++ === 0) firstPass = performance.now(); await sleep(); }, {
    steps: 2, warmup: 2, warmupSeconds: 0.06, minSeconds: 0.05,
    afterWarmup: () => { atWarmupEnd = passes; warmupMs = performance.now() - firstPass; },
  });
  assert.ok(atWarmupEnd >= 2 && warmupMs >= 59, `warm-up: ${atWarmupEnd} passes in ${warmupMs.toFixed(1)} ms`);
  assert.ok(times.length >= 2 && times.reduce((a, b) => a + b, 0) >= 50, `timed: ${times.length} passes, ${times.join(', ')} ms`);
  assert.equal(passes, atWarmupEnd + times.length);
  // With no seconds asked for, exactly the counts.
  passes = 0;
  assert.equal((await timedLoop(async () => { passes++; }, { steps: 3, warmup: 1 })).length, 3);
  assert.equal(passes, 4);
  await assert.rejects(timedLoop(async () => undefined, { warmupSeconds: -1 }), /timedLoop expects warmupSeconds and minSeconds >= 0/);
});

test('pairedSpeedRatios: each pass runs both, in alternating order; ratios are a\'s ms ÷ b\'s, counted in pairs after the warm-up', async () => {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const calls: string[] = [];
  let atWarmupEnd = -1;
  const r = await pairedSpeedRatios(async () => { calls.push('a'); await sleep(24); }, async () => { calls.push('b'); await sleep(2); },
    { steps: 3, warmup: 1, afterWarmup: () => { atWarmupEnd = calls.length; } });
  assert.equal(atWarmupEnd, 2, 'one warm-up pair, then the caller\'s afterWarmup');
  assert.equal(r.pairs, 3);
  assert.deepEqual(calls, ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
  // b sleeps a twelfth of a's time: b is the faster one, by far more than any timer jitter.
  assert.ok(r.median > 3 && r.p25 <= r.median && r.median <= r.p75, JSON.stringify(r));
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
