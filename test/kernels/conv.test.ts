/** The oneDNN convolutions (values and both gradients) against the stock cpu backend. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { gradsSameAsCpu, sameAsCpu, skip } from './helpers';

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
