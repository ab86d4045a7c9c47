/**
 * GroupedConv2D: same numbers as a dense conv with a block-diagonal kernel, and no cross-group
 * gradient; `blockDiagonal` (CRU's GWC) builds that kernel and passes the same kernel gradient.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { groupedConv2d } from '../../src/index';
import { blockDiagonal } from '../../src/layers/grouped_conv';

/** Dense kernel [k, k, Cin, Cout] that is zero outside the diagonal blocks of a grouped kernel, element by element. */
function blockDiagonalReference(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [k, , cinG, cout] = kernel.shape;
  const coutG = cout / groups;
  const data = kernel.arraySync();
  const dense = tf.buffer([k, k, cinG * groups, cout]);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < cinG; c++) for (let o = 0; o < cout; o++) {
    dense.set(data[i][j][c][o], i, j, Math.floor(o / coutG) * cinG + c, o);
  }
  return dense.toTensor() as tf.Tensor4D;
}

describe('groupedConv2d', () => {
  for (const [groups, strides] of [[2, 1], [4, 1], [2, 2]]) {
    it(`equals a block-diagonal dense conv (groups ${groups}, strides ${strides})`, () => {
      const x = tf.randomNormal([2, 5, 5, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
      const kernel = tf.randomNormal([3, 3, 8 / groups, 12], 0, 1, 'float32', 2) as tf.Tensor4D;
      const got = groupedConv2d(x, kernel, groups, strides);
      const want = tf.conv2d(x, blockDiagonalReference(kernel, groups), strides, 'same');
      assert.deepEqual(got.shape, want.shape);
      assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] < 1e-4);
    });
  }

  it('has zero gradient across groups: output group i does not depend on input group j ≠ i', () => {
    const x = tf.randomNormal([1, 4, 4, 6], 0, 1, 'float32', 3) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 2, 9], 0, 1, 'float32', 4) as tf.Tensor4D;
    for (let g = 0; g < 3; g++) {
      // Loss = sum of output group g only; its gradient must vanish on the other input groups.
      const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.slice(groupedConv2d(xi as tf.Tensor4D, kernel, 3), [0, 0, 0, 3 * g], [-1, -1, -1, 3])))(x);
      const perGroup = tf.sum(tf.abs(dx), [0, 1, 2]).reshape([3, 2]).sum(1).arraySync() as number[];
      perGroup.forEach((v, j) => (j === g ? assert.ok(v > 0) : assert.equal(v, 0)));
    }
  });

  it('kernel gradient only touches the group it belongs to', () => {
    const x = tf.randomNormal([1, 4, 4, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
    // Only input group 0 is non-zero: the kernel slice of group 1 (outputs 2, 3) must get no gradient.
    const x0 = tf.concat([tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 2]), tf.zeros([1, 4, 4, 2])], 3) as tf.Tensor4D;
    const dk = tf.grad((k: tf.Tensor) => tf.sum(tf.square(groupedConv2d(x0, k as tf.Tensor4D, 2))))(kernel);
    const perOut = tf.sum(tf.abs(dk), [0, 1, 2]).arraySync() as number[];
    assert.ok(perOut[0] > 0 && perOut[1] > 0);
    assert.deepEqual(perOut.slice(2), [0, 0]);
  });
});

describe('blockDiagonal', () => {
  for (const groups of [1, 2, 4]) {
    it(`builds the block-diagonal kernel (groups ${groups})`, () => {
      const kernel = tf.randomNormal([3, 3, 8 / groups, 12], 0, 1, 'float32', 7) as tf.Tensor4D;
      const got = blockDiagonal(kernel, groups);
      assert.deepEqual(got.shape, [3, 3, 8, 12]);
      assert.equal(tf.max(tf.abs(tf.sub(got, blockDiagonalReference(kernel, groups)))).dataSync()[0], 0); // (−0 where masked)
    });
  }

  it('a conv with it gives groupedConv2d\'s kernel gradient', () => {
    const x = tf.randomNormal([2, 5, 5, 6], 0, 1, 'float32', 8) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 2, 9], 0, 1, 'float32', 9) as tf.Tensor4D;
    const loss = (y: tf.Tensor) => tf.sum(tf.square(y));
    const dGrouped = tf.grad((k: tf.Tensor) => loss(groupedConv2d(x, k as tf.Tensor4D, 3)))(kernel);
    const dDense = tf.grad((k: tf.Tensor) => loss(tf.conv2d(x, blockDiagonal(k as tf.Tensor4D, 3), 1, 'same')))(kernel);
    assert.deepEqual(dDense.shape, kernel.shape);
    assert.ok(tf.max(tf.abs(tf.sub(dGrouped, dDense))).dataSync()[0] < 1e-3);
  });
});
