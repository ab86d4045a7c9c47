import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createResNet } from '../../src/models/resnet';
import { frugalVariableGrads } from '../../src/train/backprop';

function loss(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor2D): () => tf.Scalar {
  return () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
}

test('frugalVariableGrads gives tf.variableGrads\' value and gradients and leaves no tensors behind', () => {
  const model = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 1 });
  const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d([1, 4, 7], 'int32'), 10).toFloat() as tf.Tensor2D;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stock = tf.variableGrads(loss(model, x, y), vars);
  const before = tf.memory().numTensors;
  const ours = frugalVariableGrads(loss(model, x, y), vars);
  // The BatchNorm moving statistics were updated twice; the loss and gradients do not depend on them.
  assert.equal(tf.memory().numTensors, before + 1 + Object.keys(ours.grads).length);
  assert.equal(ours.value.dataSync()[0], stock.value.dataSync()[0]);
  assert.deepEqual(Object.keys(ours.grads).sort(), Object.keys(stock.grads).sort());
  assert.equal(Object.keys(ours.grads).length, vars.length);
  for (const name of Object.keys(stock.grads)) {
    assert.deepEqual(ours.grads[name].dataSync(), stock.grads[name].dataSync(), name);
  }
  tf.dispose([stock.value, ours.value, ...Object.values(stock.grads), ...Object.values(ours.grads), x, y]);
  model.dispose();
});

/**
 * Bytes alive when the backward pass reaches the first op of a chain of `n` full-size ops (a
 * custom gradient there reads tf.memory()): with tf.variableGrads every saved tensor and every
 * gradient of the chain is still alive then, with frugalVariableGrads only the current ones.
 */
function bytesAtChainStart(grads: typeof frugalVariableGrads, n: number): number {
  const w = tf.variable(tf.ones([1000]), true, 'chain_w');
  let seen = -1;
  const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => { seen = tf.memory().numBytes; return [tf.clone(dy)]; },
  }));
  const { value, grads: g } = grads(() => {
    let t = probe(tf.mul(w, 2));
    for (let i = 0; i < n; i++) t = tf.sin(t); // Sin saves its input
    return tf.sum(t) as tf.Scalar;
  }, [w]);
  tf.dispose([value, ...Object.values(g), w]);
  return seen;
}

test('frugalVariableGrads frees saved tensors and gradients as the backward pass goes', () => {
  const n = 50;
  const stock = bytesAtChainStart((f, vars) => tf.variableGrads(f, vars) as ReturnType<typeof frugalVariableGrads>, n);
  const ours = bytesAtChainStart(frugalVariableGrads, n);
  // Stock: n saved inputs and n + 1 gradients of 4000 bytes each (and a little more).
  assert.ok(stock >= 2 * n * 4000, `stock held ${stock} bytes`);
  // Ours: the variable, the probe's input, output and gradients: a handful of 4000-byte tensors.
  assert.ok(ours <= 8 * 4000, `frugal held ${ours} bytes (stock ${stock})`);
});

test('frugalVariableGrads saves shapes, not tensors, for kernels whose gradient reads only shapes', () => {
  const n = 20;
  /** Tensors alive at the end of a forward pass of n Adds (each saves both inputs in tfjs). */
  const tensorsAfterForward = (grads: typeof frugalVariableGrads) => {
    const w = tf.variable(tf.ones([100]), true, 'adds_w');
    let alive = -1;
    const { value, grads: g } = grads(() => {
      let t: tf.Tensor = w;
      for (let i = 0; i < n; i++) t = tf.add(t, w);
      alive = tf.memory().numTensors;
      return tf.sum(t) as tf.Scalar;
    }, [w]);
    assert.deepEqual(Array.from(g.adds_w.dataSync()).slice(0, 2), [n + 1, n + 1]);
    tf.dispose([value, ...Object.values(g), w]);
    return alive;
  };
  const stock = tensorsAfterForward((f, vars) => tf.variableGrads(f, vars) as ReturnType<typeof frugalVariableGrads>);
  const ours = tensorsAfterForward(frugalVariableGrads);
  // Stock: the n sums plus about two saved clones per Add; ours: the n sums and a handful more.
  assert.ok(stock >= 3 * n && ours <= n + 10, `stock ${stock} tensors, frugal ${ours}: each Add should save shape records instead of clones`);
});

test('frugalVariableGrads keeps saved tensors without running a kernel for each', async () => {
  const n = 12;
  const w = tf.variable(tf.linspace(0, 1, 50), true, 'sines_w');
  const f = () => {
    let t: tf.Tensor = w;
    for (let i = 0; i < n; i++) t = tf.sin(t); // Sin saves its input
    return tf.sum(t) as tf.Scalar;
  };
  const run = async (grads: typeof frugalVariableGrads) => {
    let g: Float32Array = new Float32Array();
    const info = await tf.profile(() => {
      const r = grads(f, [w]);
      g = r.grads.sines_w.dataSync() as Float32Array;
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    return { g, identities: info.kernels.filter((k) => k.name === 'Identity').length };
  };
  const stock = await run((fn, vars) => tf.variableGrads(fn, vars) as ReturnType<typeof frugalVariableGrads>);
  const ours = await run(frugalVariableGrads);
  assert.deepEqual(ours.g, stock.g);
  // Stock: one Identity kernel (the engine's clone) per saved input; ours: none for saving.
  assert.ok(stock.identities >= n && ours.identities <= stock.identities - n,
    `Identity kernels: stock ${stock.identities}, frugal ${ours.identities}`);
  w.dispose();
});

test('frugalVariableGrads names the problem when f is not a scalar or misses the variables', () => {
  const w = tf.variable(tf.ones([2]), true, 'named_w');
  assert.throws(() => frugalVariableGrads(() => tf.mul(w, 2) as unknown as tf.Scalar, [w]), /scalar, but it returned a rank-1/);
  assert.throws(() => frugalVariableGrads(() => tf.scalar(1), [w]), /depend on at least one of the variables/);
  assert.throws(() => tf.grads(() => frugalVariableGrads(() => tf.sum(w) as tf.Scalar, [w]).value)([w.clone()]), /outside any other gradient computation/);
  w.dispose();
});
