/** Concat, SplitV, Slice and BatchMatMul (values and gradients) against cpu. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { gradsSameAsCpu, sameAsCpu, skip } from './helpers';

test('concat along each axis: values and gradients match cpu', { skip }, () => {
  for (const axis of [0, 1, 2, 3, -1]) {
    const shapes = [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]].map((s, i) => {
      const t = s.slice();
      t[(axis + 4) % 4] += i; // unequal sizes along the axis
      return { shape: t };
    });
    gradsSameAsCpu(`concat axis ${axis}`, shapes, (a, b, c) => tf.concat([a, b, c], axis));
  }
});

test('split (SplitV) into equal and unequal parts: values and gradients match cpu', { skip }, () => {
  for (const axis of [0, 1, 3]) {
    gradsSameAsCpu(`split 2 axis ${axis}`, [{ shape: [4, 6, 2, 8] }], (x) => tf.concat(tf.split(x, 2, axis).map((p, i) => tf.mul(p, i + 1)), axis));
  }
  gradsSameAsCpu('split [3, 5] channels', [{ shape: [2, 4, 4, 8] }], (x) => {
    const [p, q] = tf.split(x, [3, 5], 3);
    return tf.add(tf.sum(p, 3, true), tf.sum(tf.square(q), 3, true));
  });
});

test('slice in the middle of each axis and of several: values and gradients match cpu', { skip }, () => {
  const x = [{ shape: [3, 5, 6, 4] }];
  gradsSameAsCpu('slice channels', x, (t) => tf.slice(t, [0, 0, 0, 1], [-1, -1, -1, 2]));
  gradsSameAsCpu('slice rows', x, (t) => tf.slice(t, [1, 0, 0, 0], [2, -1, -1, -1]));
  gradsSameAsCpu('slice several', x, (t) => tf.slice(t, [1, 2, 1, 0], [2, 2, 4, 3]));
  sameAsCpu('slice 1-d', [{ shape: [10] }], (t) => tf.slice(t, [3], [4]));
});

test('matMul with transposes and batches: values and gradients match cpu', { skip }, () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = ta ? [7, 5] : [5, 7], b = tb ? [3, 7] : [7, 3];
    gradsSameAsCpu(`matMul ${ta} ${tb}`, [{ shape: a }, { shape: b }], (x, y) => tf.matMul(x, y, ta, tb));
    gradsSameAsCpu(`batched matMul ${ta} ${tb}`, [{ shape: [4, ...a] }, { shape: [4, ...b] }], (x, y) => tf.matMul(x, y, ta, tb));
  }
  sameAsCpu('broadcast batch', [{ shape: [1, 5, 7] }, { shape: [3, 7, 2] }], (x, y) => tf.matMul(x, y));
  gradsSameAsCpu('large', [{ shape: [512, 32] }, { shape: [32, 48] }], (x, y) => tf.matMul(x, y), 2e-4);
});
