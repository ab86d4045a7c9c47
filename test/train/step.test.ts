import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createResNet } from '../../src/models/resnet';
import { SgdMomentum } from '../../src/train/sgd';
import { countCorrect, evaluate, trainStep } from '../../src/train/step';
import { betaMeans } from '../../src/train/monitor';

// The training path reads tensors only asynchronously (webgpu in Node has no synchronous read), so
// tf.tidy cannot clean up after it: these check the hand-written disposal leaves nothing behind.
test('countCorrect counts top-1 matches and frees its argMax', async () => {
  const logits = tf.tensor2d([[0, 2, 1], [3, 0, 0], [0, 0, 5]]);
  const before = tf.memory().numTensors;
  assert.equal(await countCorrect(logits, Int32Array.from([1, 0, 1])), 2);
  assert.equal(tf.memory().numTensors, before);
  logits.dispose();
});

test('trainStep, evaluate, betaMeans and SgdMomentum.state leave no tensors behind', async () => {
  const model = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 1 });
  const opt = new SgdMomentum(model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, decay: true })), 0.9, 5e-4);
  const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const labels = Int32Array.from([1, 2, 3, 4]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const first = await trainStep(model, opt, x, y, labels, 0.1);
  const second = await trainStep(model, opt, x, y, labels, 0.1);
  assert.ok(Number.isFinite(first.loss) && second.loss < first.loss, `${first.loss} → ${second.loss}`);
  assert.ok(Number.isInteger(second.correct) && second.correct >= 0 && second.correct <= 4);
  assert.equal(Object.keys(await betaMeans(model, x)).length, 3);
  assert.equal((await opt.state()).velocities.length, opt.params.length);
  // evaluate disposes the batches it is given, as the batch iterator hands them over.
  const acc = await evaluate(model, [0, 1].map(() => ({ x: x.clone(), y: y.clone(), labels })));
  assert.ok(acc >= 0 && acc <= 1);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
});
