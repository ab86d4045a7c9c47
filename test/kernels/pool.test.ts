/** AvgPool and nearest-neighbour upsampling (OctaveConv's pool and up): values and gradients against cpu. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { poolBlock, upsampleFactor } from '../../src/kernels/pool';
import { assertClose, expectFallback, gradsSameAsCpu, NATIVE_BACKEND_NAME, randomValues, sameAsCpu, skip } from './helpers';

test('the native path takes exactly the window = stride pools and integer-factor upsamplings', () => {
  const pool = (filterSize: number | [number, number], strides: number, pad: 'valid' | 'same' | number) =>
    poolBlock([2, 8, 8, 3], { filterSize, strides, pad } as unknown as tf.NamedAttrMap);
  assert.equal(pool(2, 2, 'valid'), 2);
  assert.equal(pool(4, 4, 0), 4);
  assert.equal(pool(2, 2, 'same'), 2); // 8 is divisible by 2: no padding
  assert.equal(pool(3, 2, 'valid'), null); // overlapping windows
  assert.equal(pool([2, 3], 2, 'valid'), null);
  assert.equal(pool(3, 3, 'same'), null); // 'same' pads 8 → 9
  const up = (size: [number, number], alignCorners = false) =>
    upsampleFactor([2, 4, 5, 3], { size, alignCorners, halfPixelCenters: false } as unknown as tf.NamedAttrMap);
  assert.equal(up([8, 10]), 2);
  assert.equal(up([12, 15]), 3);
  assert.equal(up([8, 15]), null);
  assert.equal(up([6, 10]), null);
  assert.equal(up([8, 10], true), null);
});

test('avgPool with window = stride (odd sizes drop the last row/column): values and gradients match cpu', { skip }, () => {
  expectFallback('AvgPool'); // the 3×3/2 case
  expectFallback('AvgPoolGrad');
  gradsSameAsCpu('avgPool 2×2/2 valid', [{ shape: [2, 7, 6, 5] }], (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'));
  gradsSameAsCpu('avgPool 3×3/3 valid', [{ shape: [3, 9, 10, 2] }], (x) => tf.avgPool(x as tf.Tensor4D, 3, 3, 'valid'));
  gradsSameAsCpu('avgPool 2×2/2 same', [{ shape: [2, 8, 4, 3] }], (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'same'));
  gradsSameAsCpu('avgPool 3×3/2 (cpu fallback)', [{ shape: [2, 7, 7, 3] }], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'));
});

test('nearest-neighbour resize by an integer factor: values match cpu, gradients are block sums', { skip }, () => {
  // Not compared with cpu's gradient: tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad reads dy at
  // the images' batch offset, wrong for every image after the first. The reference here is the
  // definition: dx[n, i, j] = Σ of dy over the k×k block that copies x[n, i, j].
  expectFallback('Sum'); // that reference sums over axes [2, 4]
  expectFallback('ResizeNearestNeighbor'); // the non-multiple resize
  for (const [shape, k] of [[[2, 4, 5, 3], 2], [[3, 3, 2, 4], 3]] as const) {
    const [n, h, w, c] = shape;
    for (const halfPixelCenters of [false, true]) {
      const up = (x: tf.Tensor) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [k * h, k * w], false, halfPixelCenters);
      sameAsCpu(`up ×${k} (halfPixelCenters ${halfPixelCenters})`, [{ shape: [...shape] }], up);
      tf.setBackend(NATIVE_BACKEND_NAME);
      tf.tidy(() => {
        const x = tf.tensor(randomValues(n * h * w * c, 1), [...shape]);
        const dy = tf.tensor(randomValues(n * k * h * k * w * c, 2), [n, k * h, k * w, c]);
        const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(up(t), dy)))(x);
        const blockSums = tf.sum(tf.reshape(dy, [n, h, k, w, k, c]), [2, 4]);
        assertClose(dx.dataSync() as Float32Array, blockSums.dataSync() as Float32Array, 1e-5, `up ×${k} gradient`);
      });
    }
  }
  sameAsCpu('resize to a non-multiple (cpu fallback)', [{ shape: [2, 4, 5, 3] }],
    (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7, 9]));
});
