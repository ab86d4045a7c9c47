/**
 * The seed blog's tips: SRU switched off / threshold set at run time, CRU β monitoring, and the
 * standard-convs-first switch (what is transferred).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { SCConv } from '../../src/layers/scconv';
import { createResNet } from '../../src/models/resnet';
import { betaMeans, setSRU } from '../../src/train/monitor';
import { readMetrics } from '../../src/train/run_files';
import { train, type EpochMetrics } from '../../src/train/train';
import { transferWeights } from '../../src/train/transfer';
import { SgdMomentum } from '../../src/train/sgd';
import { checkpointArrays, metricsWithoutTimes, runDir, tinyConfig, tinyData } from './helpers';

const same = (a: tf.Tensor, b: tf.Tensor) => assert.deepEqual([...a.dataSync()], [...b.dataSync()]);

test('setSRU: disabled SRU is the identity (SCConv = CRU alone); the threshold is read at run time', () => {
  const model = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 1, scconv: { gate: 'hard' } });
  const layer = model.getLayer('s1b1_conv2') as unknown as SCConv;
  const x = tf.randomNormal([2, 32, 32, 8], 0, 1, 'float32', 2);
  const on = layer.apply(x) as tf.Tensor;
  assert.equal(setSRU(model, 0.5, false), 3);
  same(layer.apply(x) as tf.Tensor, layer.cru.apply(x) as tf.Tensor);
  setSRU(model, 0.5, true);
  same(layer.apply(x) as tf.Tensor, on);
  setSRU(model, 0.9, true);
  assert.equal(layer.sru.options.threshold, 0.9);
  assert.notDeepEqual([...(layer.apply(x) as tf.Tensor).dataSync()], [...on.dataSync()]);
});

test('betaMeans: one [mean β1, mean β2] per SCConv, summing to 1 with pairwise fusion (Eq. 6)', async () => {
  const model = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 1 });
  const betas = await betaMeans(model, tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D);
  assert.deepEqual(Object.keys(betas), ['s1b1_conv2', 's2b1_conv2', 's3b1_conv2']);
  for (const [b1, b2] of Object.values(betas)) {
    assert.ok(b1 > 0 && b1 < 1 && Math.abs(b1 + b2 - 1) < 1e-5, `${b1} ${b2}`);
  }
  assert.deepEqual(await betaMeans(createResNet({ depth: 8, width: 4 }), tf.zeros([1, 32, 32, 3])), {});
});

test('transferWeights copies every layer both models share (not the replaced convs), with their velocities', () => {
  const from = createResNet({ depth: 8, width: 8, seed: 1 });
  const to = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 2 });
  const sgd = (m: tf.LayersModel) => new SgdMomentum(m.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, decay: true })), 0.9, 0);
  const [fromOpt, toOpt] = [sgd(from), sgd(to)];
  fromOpt.velocities.forEach((v, i) => v.assign(tf.fill(v.shape, i + 1)));
  const copied = transferWeights(from, to, fromOpt, toOpt);
  const velocityOf = (opt: SgdMomentum, m: tf.LayersModel, layer: string) =>
    opt.velocities[opt.params.findIndex((p) => p.variable === m.getLayer(layer).trainableWeights[0].read())];
  same(velocityOf(toOpt, to, 's2b1_conv1'), velocityOf(fromOpt, from, 's2b1_conv1'));
  assert.equal(velocityOf(toOpt, to, 's2b1_conv2').sum().dataSync()[0], 0); // a replaced conv starts at rest
  assert.ok(copied.includes('stem_conv') && copied.includes('s2b1_conv1') && copied.includes('s3b1_bn2') && copied.includes('fc'));
  assert.ok(copied.includes('s2b1_shortcut_conv'));
  assert.ok(!copied.some((n) => n.endsWith('conv2')));
  same(to.getLayer('s2b1_conv1').getWeights()[0], from.getLayer('s2b1_conv1').getWeights()[0]);
});

test('standard convs for N epochs, then SCConv: metrics record the switch, SRU-off epochs and β; a crash at the switch resumes exactly', async () => {
  const data = await tinyData();
  const run = runDir();
  const config = (out: string) => tinyConfig(out, { width: 8, conv: 'scconv', maxTrain: 4, maxTest: 4, epochs: 3, standardEpochs: 1, sruOffEpochs: 2, betaBatch: 4, thresholdWarmup: true });
  const s = await train(config(run), { data });
  assert.equal(s.status, 'done');
  // Crash right after the last standard epoch's checkpoint (as a SIGKILL there would), then resume.
  const crashed = runDir();
  await assert.rejects(train(config(crashed), { data, onEpoch: () => { throw new Error('crash'); } }), /crash/);
  assert.equal((await train(config(crashed), { data, resume: true })).status, 'done');
  assert.deepEqual(checkpointArrays(crashed), checkpointArrays(run));
  assert.deepEqual(metricsWithoutTimes(crashed), metricsWithoutTimes(run));
  const rows = readMetrics<EpochMetrics>(run);
  assert.deepEqual(rows.map((r) => [r.conv, r.sru, +r.threshold.toFixed(4)]), [['standard', false, 0.3], ['scconv', false, 0.3667], ['scconv', true, 0.4333]]);
  assert.deepEqual(rows[0].betas, {});
  assert.deepEqual(Object.keys(rows[2].betas), ['s1b1_conv2', 's2b1_conv2', 's3b1_conv2']);
});
