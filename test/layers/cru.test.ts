/**
 * The CRU layer's kept GWC filter (src/layers/cru.ts, `fusedFilter`): on a backend with the fused
 * CRU, inference builds the GWC+PWC1 filter once and reuses it until a weight changes; gradient
 * computations never use it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CRU, CRU_FILTER, cru, type CRUWeights } from '../../src/layers/cru';
import { skip } from '../kernels/helpers';

function weightsOf(layer: CRU): CRUWeights {
  const [squeeze1, squeeze2, gwcKernel, gwcBias, pwc1, pwc2] = layer.getWeights();
  return { squeeze1, squeeze2, gwcKernel, gwcBias, pwc1, pwc2 };
}

/** The kernels one call of `f` dispatches, by name. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => { f(); });
  return info.kernels.map((k) => k.name);
}

test('CRU layer on native: inference reuses its GWC filter until a weight changes; same outputs, no leak', { skip }, async () => {
  tf.setBackend('native');
  try {
    const layer = new CRU({ groups: 2 });
    const x = tf.randomNormal([2, 8, 8, 16], 0, 1, 'float32', 7) as tf.Tensor4D;
    layer.build(x.shape);
    const fresh = () => cru(x, layer.plan!, weightsOf(layer), layer.options);
    const first = await kernelsOf(() => layer.apply(x) as tf.Tensor);
    const second = await kernelsOf(() => layer.apply(x) as tf.Tensor);
    assert.ok(first.includes(CRU_FILTER) && !second.includes(CRU_FILTER), `first call ran ${first}, second ${second}: the second should reuse the filter`);
    const y1 = layer.apply(x) as tf.Tensor;
    const expected = fresh();
    assert.deepEqual(y1.dataSync(), expected.dataSync(), 'the reused filter gives the freshly built one\'s output');
    const tensors = tf.memory().numTensors;
    tf.dispose(layer.apply(x) as tf.Tensor);
    assert.equal(tf.memory().numTensors, tensors, 'a call with the kept filter leaves no tensor behind');

    // A new GWC kernel (a new data id under the variable) must be seen at once.
    layer.gwcKernel!.write(tf.mul(layer.gwcKernel!.read(), -2));
    const y2 = layer.apply(x) as tf.Tensor;
    const expected2 = fresh();
    assert.deepEqual(y2.dataSync(), expected2.dataSync(), 'after a weight write the output follows the new weight');
    assert.notDeepEqual(y2.dataSync(), y1.dataSync());

    // Under a gradient tape the filter is built on the tape: every weight gets its gradient.
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar, vars);
    const expectedGrads = tf.variableGrads(() => tf.sum(tf.square(fresh())) as tf.Scalar, vars).grads;
    for (const v of vars) {
      assert.ok(grads[v.name], `${v.name} has a gradient`);
      assert.deepEqual(grads[v.name].dataSync(), expectedGrads[v.name].dataSync(), v.name);
    }

    const before = tf.memory().numTensors;
    layer.releaseFusedFilter();
    assert.equal(tf.memory().numTensors, before - 1, 'releasing frees the kept filter');
    tf.dispose([x, y1, y2, expected, expected2, ...Object.values(grads), ...Object.values(expectedGrads)]);
  } finally {
    tf.setBackend('cpu');
  }
});
