/** Binary (with broadcasts), unary and AddN kernels, values and gradients, against cpu. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectFallback, gradsSameAsCpu, sameAsCpu, skip } from './helpers';

const binaryOps: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum],
  ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
];

// Shapes: same, per-channel vector both ways, per-example, per-pixel, scalar, and a general
// broadcast that the native kernel hands to cpu.
const shapePairs: [number[], number[]][] = [
  [[2, 3, 5, 4], [2, 3, 5, 4]],
  [[2, 3, 5, 4], [4]],
  [[4], [2, 3, 5, 4]],
  [[2, 3, 5, 4], [2, 1, 1, 4]],
  [[2, 3, 5, 4], [2, 3, 5, 1]],
  [[2, 3, 5, 4], []],
  [[], [3, 7]],
  [[2, 1, 3], [1, 4, 1]],
];

// tfjs-core's gradients of maximum, minimum and squaredDifference do not reduce over broadcast
// axes (they fail on cpu too), so those compare gradients for equal shapes only.
const gradsBroadcast = new Set(['add', 'sub', 'mul', 'div']);

// The cpu kernels these cases run on purpose: the general broadcast's gradient sums over
// non-contiguous axes; maximum's and minimum's gradients multiply dy by a bool mask cast to
// float32, which the cpu Cast leaves a Uint8Array (not a Float32Array the addon can read).
const expectedFallbacks: Record<string, string[]> = {
  add: ['Sum'], sub: ['Sum'], mul: ['Sum'], div: ['Sum'], maximum: ['Multiply'], minimum: ['Multiply'],
};

for (const [name, op] of binaryOps) {
  test(`${name} with broadcasts: values and gradients match cpu`, { skip }, () => {
    for (const kernel of expectedFallbacks[name] ?? []) expectFallback(kernel);
    for (const [a, b] of shapePairs) {
      // Divisors kept away from 0.
      const bRange = name === 'div' ? { lo: 0.5, hi: 2 } : {};
      const check = gradsBroadcast.has(name) || a.join() === b.join() ? gradsSameAsCpu : sameAsCpu;
      check(`${name} ${JSON.stringify(a)} ${JSON.stringify(b)}`, [{ shape: a }, { shape: b, ...bRange }], op);
    }
  });
}

test('binary ops on int32 fall back to cpu and stay int32', { skip }, () => {
  expectFallback('Add');
  sameAsCpu('int add', [{ shape: [3, 4] }], (x) => tf.add(tf.cast(tf.mul(x, 10), 'int32'), tf.scalar(3, 'int32')).toFloat());
});

const unaryOps: [string, (x: tf.Tensor) => tf.Tensor, { lo?: number; hi?: number }][] = [
  ['relu', tf.relu, {}], ['relu6', tf.relu6, { lo: -3, hi: 9 }], ['neg', tf.neg, {}], ['square', tf.square, {}],
  ['sqrt', tf.sqrt, { lo: 0.1, hi: 4 }], ['rsqrt', tf.rsqrt, { lo: 0.1, hi: 4 }], ['exp', tf.exp, {}],
  ['log', tf.log, { lo: 0.1, hi: 4 }], ['sigmoid', tf.sigmoid, { lo: -6, hi: 6 }], ['tanh', tf.tanh, { lo: -3, hi: 3 }],
  ['abs', tf.abs, {}], ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), {}], ['elu', tf.elu, {}],
];

for (const [name, op, range] of unaryOps) {
  test(`${name}: values and gradients match cpu (small and multi-threaded sizes)`, { skip }, () => {
    if (name === 'relu6') expectFallback('Multiply'); // dy times a bool mask cast to float32 (see above)
    gradsSameAsCpu(name, [{ shape: [3, 5, 7], ...range }], op);
    gradsSameAsCpu(`${name} large`, [{ shape: [8, 16, 16, 33], ...range }], op);
  });
}

test('relu keeps NaN in the vector loop at every size (below and above the 2-thread size)', { skip }, () => {
  // log of the negative half gives NaN; the unary loop is vectorised for small tensors too.
  sameAsCpu('relu NaN small', [{ shape: [3, 5, 7] }], (x) => tf.relu(tf.log(x)));
  sameAsCpu('relu NaN large', [{ shape: [8, 16, 16, 33] }], (x) => tf.relu(tf.log(x)));
});

test('step (with alpha) matches cpu', { skip }, () => {
  sameAsCpu('step', [{ shape: [4, 9] }], (x) => tf.step(x, 0.25));
});

test('addN: values and gradients match cpu', { skip }, () => {
  gradsSameAsCpu('addN', [{ shape: [2, 5, 3] }, { shape: [2, 5, 3] }, { shape: [2, 5, 3] }], (a, b, c) => tf.addN([a, b, c]));
});

test('zerosLike (a shared known zero) behaves as zeros in sums, products and the step gradient', { skip }, () => {
  gradsSameAsCpu('zeros in arithmetic', [{ shape: [3, 4, 5] }], (x) => tf.add(tf.mul(tf.zerosLike(x), x), tf.sub(x, tf.zerosLike(x))));
  gradsSameAsCpu('step gradient', [{ shape: [3, 4] }], (x) => tf.add(tf.step(x), x));
  sameAsCpu('zeros reduced', [{ shape: [4, 6] }], (x) => tf.sum(tf.zerosLike(x), 0));
});

test('writing into a zerosLike array read out with dataSync leaves other zeros zero', { skip }, () => {
  tf.setBackend('native');
  const a = tf.zerosLike(tf.ones([16]));
  (a.dataSync() as Float32Array)[0] = 42; // a caller's copy, not the shared zeros
  const b = tf.zerosLike(tf.ones([16]));
  sameAsCpu('fresh zeros', [{ shape: [16] }], (x) => tf.add(tf.zerosLike(x), 1));
  if (b.dataSync()[0] !== 0) throw new Error('shared zeros were overwritten');
  tf.dispose([a, b]);
});

test('multiply gradient of a broadcast operand (one fused pass) on multi-threaded sizes matches cpu', { skip }, () => {
  // [1,16,1,16] is no three-block broadcast: its product and gradient sum run on cpu.
  expectFallback('Multiply');
  expectFallback('Sum');
  for (const b of [[16], [16, 1, 1, 16], [16, 16, 16, 1], [1, 16, 1, 16]]) {
    gradsSameAsCpu(`mul [16,16,16,16] x [${b}]`, [{ shape: [16, 16, 16, 16] }, { shape: b }], tf.mul, 2e-4);
  }
});
