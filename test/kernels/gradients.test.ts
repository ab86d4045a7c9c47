/**
 * The gradient overrides of src/kernels/gradients.ts: what their kernels save for the backward
 * pass and what the gradients compute, on cpu and on native.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { frugalVariableGrads } from '../../src/train/backprop';
import { skip, TEST_BACKENDS } from './helpers';

interface TapeNode { kernelName: string; inputs: Record<string, tf.Tensor>; outputs: tf.Tensor[]; saved?: unknown[] }

/** The tape nodes recorded so far by the gradient computation `f` runs inside. */
function tapeSoFar(): TapeNode[] {
  return [...((tf.engine() as unknown as { state: { activeTape: TapeNode[] | null } }).state.activeTape ?? [])];
}

for (const backend of TEST_BACKENDS) describe(`gradient overrides (${backend.name})`, { skip: backend.skip }, () => {
  before(() => tf.setBackend(backend.name));
  after(() => tf.setBackend('cpu'));

  test('Relu saves its output, not its input, and its gradient is dy where x > 0 (0 at x = 0)', () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.25, 3]);
    const dy = tf.tensor1d([1, 2, 3, 4, 5]);
    let nodes: TapeNode[] = [];
    const dx = tf.grad((v: tf.Tensor) => {
      const y = tf.relu(tf.mul(v, 1));
      nodes = tapeSoFar();
      return y;
    })(x, dy);
    assert.deepEqual(Array.from(dx.dataSync()), [0, 0, 0, 4, 5]);
    const relu = nodes.find((n) => n.kernelName === tf.Relu)!;
    assert.equal(relu.saved?.length, 1);
    assert.equal((relu.saved![0] as tf.Tensor).dataId, relu.outputs[0].dataId, 'Relu should save its output');
    tf.dispose([x, dy, dx]);
  });
});

test('frugalVariableGrads frees the x − mean of every folded batch-norm variance in the forward pass (native)', { skip }, () => {
  tf.setBackend('native');
  try {
    const layers = [0, 1, 2].map(() => tf.layers.batchNormalization({ epsilon: 1e-3 }));
    const x = tf.randomNormal([4, 6, 6, 8], 0, 1, 'float32', 3);
    for (const l of layers) l.build(x.shape);
    const vars = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
    const forward = () => tf.sum(layers.reduce((t, l) => tf.relu(l.apply(t, { training: true }) as tf.Tensor), x as tf.Tensor)) as tf.Scalar;
    let squares: TapeNode[] = [];
    const ours = frugalVariableGrads(() => {
      const loss = forward();
      squares = tapeSoFar().filter((n) => n.kernelName === tf.Square);
      return loss;
    }, vars);
    assert.equal(squares.length, 3, 'one Square per batch norm (the variance of tf.moments)');
    for (const n of squares) assert.ok(n.saved?.every((t) => !(t instanceof tf.Tensor)), 'the Square kept its x − mean');
    // The gradients are still tf.variableGrads' (whose Square keeps its input).
    const stock = tf.variableGrads(forward, vars);
    for (const name of Object.keys(stock.grads)) {
      assert.deepEqual(ours.grads[name].dataSync(), stock.grads[name].dataSync(), name);
    }
    tf.dispose([x, ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads)]);
    for (const l of layers) for (const w of l.weights) w.dispose();
  } finally {
    tf.setBackend('cpu');
  }
});
