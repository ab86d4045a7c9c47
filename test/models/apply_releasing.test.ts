import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { applyReleasing } from '../../src/models/apply_releasing';
import { createResNet } from '../../src/models/resnet';
import { frugalVariableGrads } from '../../src/train/backprop';
import { TEST_BACKENDS } from '../kernels/helpers';

function lossOf(y: tf.Tensor2D, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

for (const backend of TEST_BACKENDS) test(`applyReleasing gives model.apply's outputs and gradients (ResNet-8, SCConv-ResNet-8; ${backend.name})`, { skip: backend.skip }, () => {
  tf.setBackend(backend.name);
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4);
  const y = tf.oneHot(tf.tensor1d([3, 8], 'int32'), 10).toFloat() as tf.Tensor2D;
  for (const conv of ['standard', 'scconv'] as const) {
    const model = createResNet({ depth: 8, width: 8, conv, seed: 2 });
    const stock = model.apply(x, { training: false }) as tf.Tensor;
    const ours = applyReleasing(model, x, { training: false });
    assert.deepEqual(ours.dataSync(), stock.dataSync(), `${conv}: inference output`);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const a = frugalVariableGrads(() => lossOf(y, model.apply(x, { training: true }) as tf.Tensor), vars);
    const b = frugalVariableGrads(() => lossOf(y, applyReleasing(model, x, { training: true })), vars);
    assert.equal(b.value.dataSync()[0], a.value.dataSync()[0], `${conv}: training loss`);
    assert.equal(Object.keys(b.grads).length, vars.length);
    for (const name of Object.keys(a.grads)) assert.deepEqual(b.grads[name].dataSync(), a.grads[name].dataSync(), `${conv}: ${name}`);
    tf.dispose([stock, ours, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
    model.dispose();
  }
  assert.ok(!x.isDisposed, 'the input is the caller\'s');
  tf.dispose([x, y]);
  tf.setBackend('cpu');
});

/** Records how many buffers are alive when it runs: the peak of a chain that ends in it. */
class Probe extends tf.layers.Layer {
  static className = 'ApplyReleasingProbe';
  static seen = -1;
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    Probe.seen = tf.engine().backend.numDataIds();
    return tf.clone(Array.isArray(inputs) ? inputs[0] : inputs);
  }
}

test('applyReleasing frees each layer\'s output in a training pass once no later layer reads it', () => {
  const n = 12;
  const input = tf.input({ shape: [64] });
  let h = tf.layers.dense({ units: 64, useBias: false, kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
  for (let i = 0; i < n; i++) h = tf.layers.add().apply([h, h]) as tf.SymbolicTensor; // each sum read twice
  const model = tf.model({ inputs: input, outputs: new Probe().apply(h) as tf.SymbolicTensor });
  const x = tf.ones([4, 64]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const buffersAtEnd = (forward: () => tf.Tensor) => {
    const before = tf.engine().backend.numDataIds();
    const { value, grads } = frugalVariableGrads(() => tf.sum(forward()) as tf.Scalar, vars);
    // d/dW of sum(2^n · x·W) over 4 rows: 4 · 2^n everywhere.
    assert.equal(grads[vars[0].name].dataSync()[0], 4 * 2 ** n);
    tf.dispose([value, ...Object.values(grads)]);
    return Probe.seen - before;
  };
  const stock = buffersAtEnd(() => model.apply(x, { training: true }) as tf.Tensor);
  const ours = buffersAtEnd(() => applyReleasing(model, x, { training: true }));
  // model.apply keeps the dense output and all n sums to the end; ours the last sum and a few more.
  assert.ok(stock >= n + 1, `model.apply held ${stock} buffers at the probe`);
  assert.ok(ours <= 4, `applyReleasing held ${ours} buffers at the probe (model.apply: ${stock})`);
  x.dispose();
  model.dispose();
});
