/**
 * The fused SGD-with-momentum kernel (native) against the tfjs composition on cpu: the same bits,
 * with and without weight decay, on a bias-sized weight, SCConv-ResNet-20's 3×3 kernels and one
 * large enough for the kernel's threaded loop; and that the optimizer uses it where it exists.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { hasFusedSgd, SGD_MOMENTUM_KERNEL, SgdMomentum, sgdUpdate } from '../../src/train/sgd';
import { NATIVE_BACKEND_NAME, sameAsCpu, skip } from './helpers';

const SHAPES = [[3], [3, 3, 16, 16], [3, 3, 64, 64]];

test('SCConvSgdMomentum gives the composition\'s bits (decay 0 and 5e-4, lr 0.1, momentum 0.9)', { skip }, () => {
  for (const shape of SHAPES) {
    for (const decay of [0, 5e-4]) {
      const u = { lr: 0.1, momentum: 0.9, decay };
      sameAsCpu(`sgdUpdate [${shape}] decay ${decay}`, [{ shape }, { shape }, { shape, lo: -3, hi: 3 }],
        (w, v, g) => sgdUpdate(w, v, g, u, hasFusedSgd()), 0);
    }
  }
});

test('SgdMomentum.step runs one fused kernel per weight on native, the composition on cpu', { skip }, async () => {
  for (const [backend, fused] of [['cpu', false], [NATIVE_BACKEND_NAME, true]] as const) {
    tf.setBackend(backend);
    assert.equal(hasFusedSgd(), fused, backend);
    const w = tf.variable(tf.ones([4, 4])), b = tf.variable(tf.zeros([4]));
    const opt = new SgdMomentum([{ name: 'w', variable: w, decay: true }, { name: 'b', variable: b, decay: false }], 0.9, 5e-4);
    const grads = [tf.fill([4, 4], 0.5), tf.fill([4], 2)];
    const profile = await tf.profile(() => opt.step(grads, 0.1));
    const fusedCalls = profile.kernels.filter((k) => k.name === SGD_MOMENTUM_KERNEL).length;
    assert.equal(fusedCalls, fused ? 2 : 0, `${backend}: ${profile.kernels.map((k) => k.name).join(', ')}`);
    // 1 − 0.1·(0.5 + 5e-4) and 0 − 0.1·2, either way.
    assert.ok(Math.abs(w.dataSync()[0] - 0.94995) < 1e-6 && Math.abs(b.dataSync()[0] + 0.2) < 1e-7, backend);
    [w, b, ...grads].forEach((t) => t.dispose());
    opt.dispose();
  }
});

test('SCConvSgdMomentum names a gradient of the wrong shape or dtype', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const [w, v, g] = [tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([3, 2])];
  assert.throws(() => sgdUpdate(w, v, g, { lr: 0.1, momentum: 0.9, decay: 0 }, true),
    /SCConvSgdMomentum expects g of w's shape \[2,3\], but received \[3,2\]/);
  const gi = tf.zeros([2, 3], 'int32');
  assert.throws(() => sgdUpdate(w, v, gi, { lr: 0.1, momentum: 0.9, decay: 0 }, true),
    /SCConvSgdMomentum expects float32 g, but received "int32"/);
  [w, v, g, gi].forEach((t) => t.dispose());
});
