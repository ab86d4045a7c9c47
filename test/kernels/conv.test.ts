/** The oneDNN convolutions (values and both gradients) against the stock cpu backend. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { forwardWeightsId } from '../../src/kernels/conv';
import type { NativeAddon } from '../../src/kernels/native_addon';
import { assertClose, gradsSameAsCpu, NATIVE_BACKEND_NAME, randomValues, sameAsCpu, skip } from './helpers';

type Case = { x: number[]; f: number[]; strides: number | [number, number]; pad: 'same' | 'valid'; dilation?: number };

const cases: Case[] = [
  { x: [2, 7, 9, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [3, 8, 8, 4], f: [3, 3, 4, 5], strides: 1, pad: 'valid' },
  { x: [3, 9, 7, 4], f: [3, 3, 4, 2], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 6], f: [1, 1, 6, 4], strides: 2, pad: 'same' },
  { x: [1, 5, 5, 3], f: [1, 1, 3, 3], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 2], f: [3, 3, 2, 3], strides: [1, 2], pad: 'same' },
  { x: [2, 10, 10, 3], f: [3, 3, 3, 2], strides: 1, pad: 'same', dilation: 2 },
];

for (const c of cases) {
  const name = `x ${c.x} filter ${c.f} strides ${c.strides} ${c.pad}${c.dilation ? ` dilation ${c.dilation}` : ''}`;
  // tfjs-core has no conv2d gradient for dilation > 1, so dilated convs compare values only.
  const check = c.dilation ? sameAsCpu : gradsSameAsCpu;
  test(`conv2d ${name}: values${c.dilation ? '' : ' and gradients'} match cpu`, { skip }, () => {
    check('conv2d', [{ shape: c.x }, { shape: c.f }], (x, f) =>
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilation ?? 1));
  });
}

test('fused conv2d with bias and relu (the FusedConv2D kernel): values and gradients match cpu', { skip }, () => {
  for (const activation of ['linear', 'relu', 'elu'] as const) {
    gradsSameAsCpu(`fused conv2d ${activation}`, [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
      (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation }));
  }
});

const depthwise: { x: number[]; f: number[]; strides: number; pad: 'same' | 'valid' }[] = [
  { x: [2, 7, 7, 4], f: [3, 3, 4, 1], strides: 1, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 2], strides: 2, pad: 'same' },
  { x: [3, 8, 6, 3], f: [3, 3, 3, 1], strides: 1, pad: 'valid' },
  { x: [1, 6, 6, 5], f: [1, 1, 5, 2], strides: 1, pad: 'valid' },
];
for (const c of depthwise) {
  test(`depthwiseConv2d x ${c.x} filter ${c.f} strides ${c.strides} ${c.pad}: values and both gradients match cpu`, { skip }, () => {
    gradsSameAsCpu('depthwise', [{ shape: c.x }, { shape: c.f }], (x, f) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad));
  });
}

/** Inference (no gradient tape) keeps each filter reordered in oneDNN's format by the filter's id. */
test('inference conv: a kept reordered filter is reused, and a new filter in the same buffer is not mistaken for it', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const xValues = randomValues(2 * 8 * 8 * 16, 1), fShape: [number, number, number, number] = [3, 3, 16, 16];
  const x = tf.tensor(xValues, [2, 8, 8, 16]) as tf.Tensor4D;
  const filterValues = (seed: number) => randomValues(3 * 3 * 16 * 16, seed);
  // The cpu backend's result for the filter of `seed` (reading the native filter would pin its buffer).
  const expected = (seed: number) => {
    tf.setBackend('cpu');
    const y = tf.tidy(() => tf.conv2d(tf.tensor(xValues, x.shape) as tf.Tensor4D, tf.tensor(filterValues(seed), fShape) as tf.Tensor4D, 1, 'same').dataSync() as Float32Array);
    tf.setBackend(NATIVE_BACKEND_NAME);
    return y;
  };
  const conv = (f: tf.Tensor4D) => tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync() as Float32Array);
  // Filters made by a native kernel live in pooled buffers: a disposed one's buffer goes to the next.
  const pooledFilter = (seed: number) => tf.mul(tf.tensor(filterValues(seed), fShape), 1) as tf.Tensor4D;
  const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
  const f1 = pooledFilter(2);
  const want1 = expected(2);
  for (let i = 0; i < 2; i++) assertClose(conv(f1), want1, 1e-4, `f1, call ${i}`);
  const buffer1 = backend.data.get(f1.dataId).values;
  f1.dispose();
  const f2 = pooledFilter(3);
  assert.ok(backend.data.get(f2.dataId).values === buffer1, 'the test needs f2 in f1\'s old buffer');
  assertClose(conv(f2), expected(3), 1e-4, 'f2 in f1\'s buffer');
  // More filters of one geometry than the addon keeps per plan (64): the oldest are dropped, results stay right.
  const many = Array.from({ length: 70 }, (_, i) => tf.tensor(filterValues(100 + i), fShape) as tf.Tensor4D);
  const outs = many.map(conv);
  for (const i of [0, 69, 0]) assertClose(conv(many[i]), outs[i], 1e-6, `filter ${i} again`);
  assertClose(outs[0], expected(100), 1e-4, 'filter 0 against cpu');
  assertClose(outs[69], expected(169), 1e-4, 'filter 69 against cpu');
  // Under a gradient tape (training) no id is given: the filter changes every step.
  let taped = -1;
  tf.tidy(() => tf.grad((f: tf.Tensor) => {
    taped = forwardWeightsId(f);
    return tf.sum(f);
  })(f2));
  assert.equal(taped, 0);
  assert.ok(forwardWeightsId(f2) > 0);
  assert.equal(forwardWeightsId(f2), forwardWeightsId(f2));
  assert.notEqual(forwardWeightsId(f2), forwardWeightsId(many[0]));
  tf.dispose([x, f2, ...many]);
});

test('addon conv: weightsId only in mode 0, an integer >= 0', { skip }, () => {
  const addon = (tf.findBackend(NATIVE_BACKEND_NAME) as unknown as { addon: NativeAddon }).addon;
  const params = Int32Array.from([1, 4, 4, 2, 3, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const x = new Float32Array(32), f = new Float32Array(54), y = new Float32Array(48);
  assert.throws(() => addon.conv(1, y, f, x, params, null, 0, 0, 5), /weightsId expects 0 outside mode 0 \(forward\), but received 5/);
  assert.throws(() => addon.conv(0, x, f, y, params, null, 0, 0, -1), /weightsId/);
  assert.throws(() => addon.conv(0, x, f, y, params, null, 0, 0, 1.5), /weightsId/);
  addon.conv(0, x, f, y, params, null, 0, 0, 7); // zeros in, zeros out, kept under id 7
  assert.ok(y.every((v) => v === 0));
});
