/**
 * The fused SRU kernels of the native backend (src/kernels/sru.ts, native/src/sru.cc) against the
 * composition of tfjs ops on cpu (src/layers/sru.ts): y and the gradients of Σ y·r with respect to
 * x, γ and β, on the SRU shapes of the CIFAR ResNets (widths 16, 32, 64 at 32², 16², 8²; groupNum 4,
 * the default, and 16) and odd ones, both gates, thresholds 0.5 and 0.3.
 *
 * The gates are a step of the importance map w at the threshold t, so an element whose w lies
 * within rounding of t may take another gate on each backend. The data keeps clear of that: x is
 * on a grid of 1/4 (its GroupNorm sums are then exact in float32 on both backends), γ has mixed
 * signs with Σγ = 2 (so w spreads over both sides of either threshold), and each case checks that
 * no w lies within 1e-5 of t on cpu before comparing.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FUSED_SRU_KERNEL, sru, type SRUGate, type SRUOptions } from '../../src/layers/sru';
import { FUSED_SRU_GRAD_KERNEL } from '../../src/kernels/sru';
import { type Data, gateMargin, makeData, type Shape4 } from './fixtures/sru_data';
import { assertClose, NATIVE_BACKEND_NAME, skip } from './helpers';

/** y and the gradients of Σ y·r with respect to x, γ, β, computed by `sru` on `backend`. */
function run(backend: string, d: Data, opts: SRUOptions): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.shape), gamma = tf.tensor1d(d.gamma), beta = tf.tensor1d(d.beta);
    const r = tf.tensor4d(d.r, d.shape);
    const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => sru(xi as tf.Tensor4D, { gamma: g, beta: b }, opts);
    const grads = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xi, g, b), r)))([x, gamma, beta]);
    return [f(x, gamma, beta), ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

const CASES: { shape: Shape4; groupNum: number; seed: number }[] = [
  { shape: [8, 32, 32, 16], groupNum: 4, seed: 1 },
  { shape: [8, 16, 16, 32], groupNum: 4, seed: 11 },
  { shape: [8, 8, 8, 64], groupNum: 4, seed: 22 },
  { shape: [8, 32, 32, 16], groupNum: 16, seed: 31 },
  { shape: [8, 16, 16, 32], groupNum: 16, seed: 41 },
  { shape: [8, 8, 8, 64], groupNum: 16, seed: 52 },
  { shape: [2, 5, 3, 6], groupNum: 3, seed: 61 },
  { shape: [1, 7, 4, 8], groupNum: 2, seed: 71 },
  { shape: [3, 1, 1, 2], groupNum: 1, seed: 81 },
];

for (const gate of ['soft', 'hard'] as SRUGate[]) {
  for (const threshold of [0.5, 0.3]) {
    test(`fused SRU (${gate} gate, t = ${threshold}) equals the cpu composition: y, dx, dγ, dβ`, { skip }, () => {
      for (const { shape, groupNum, seed } of CASES) {
        const opts: SRUOptions = { groupNum, threshold, gate, epsilon: 1e-5 };
        const d = makeData(shape, seed);
        const what = `[${shape}] groupNum ${groupNum}`;
        const { margin, above } = gateMargin(d, opts);
        const size = tf.util.sizeFromShape(shape);
        assert.ok(margin >= 1e-5, `${what}: the test data puts w within ${margin} of t; pick another seed`);
        assert.ok(size < 8 || (above > 0 && above < size), `${what}: ${above} of ${size} elements pass t (both gates must occur)`);
        const expected = run('cpu', d, opts), actual = run(NATIVE_BACKEND_NAME, d, opts);
        ['y', 'dx', 'dγ', 'dβ'].forEach((name, i) => assertClose(actual[i], expected[i], 1e-4, `${what} ${name}`));
      }
    });
  }
}

test('sru() runs the fused kernels on native (no C×C matmul, no sigmoid op) and the composition on cpu', { skip }, async () => {
  const kernelsOf = async (backend: string) => {
    tf.setBackend(backend);
    const d = makeData([2, 4, 4, 8], 5);
    const x = tf.tensor4d(d.x, d.shape), gamma = tf.tensor1d(d.gamma), beta = tf.tensor1d(d.beta);
    const opts: SRUOptions = { groupNum: 4, threshold: 0.5, gate: 'soft', epsilon: 1e-5 };
    const info = await tf.profile(() => tf.grads((xi: tf.Tensor, g: tf.Tensor) =>
      tf.sum(sru(xi as tf.Tensor4D, { gamma: g, beta }, opts)))([x, gamma]));
    tf.dispose([x, gamma, beta]);
    return new Set(info.kernelNames);
  };
  const native = await kernelsOf(NATIVE_BACKEND_NAME);
  for (const k of [FUSED_SRU_KERNEL, FUSED_SRU_GRAD_KERNEL]) assert.ok(native.has(k), `native ran ${[...native]}`);
  for (const k of ['BatchMatMul', 'Sigmoid']) assert.ok(!native.has(k), `native ran ${k}: ${[...native]}`);
  const cpu = await kernelsOf('cpu');
  assert.ok(cpu.has('BatchMatMul') && cpu.has('Sigmoid') && !cpu.has(FUSED_SRU_KERNEL), `cpu ran ${[...cpu]}`);
});

test('the fused SRU leaks no tensors, in inference and in training', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const d = makeData([2, 4, 4, 8], 6);
  const x = tf.tensor4d(d.x, d.shape), gamma = tf.variable(tf.tensor1d(d.gamma)), beta = tf.variable(tf.tensor1d(d.beta));
  const opts: SRUOptions = { groupNum: 2, threshold: 0.5, gate: 'soft', epsilon: 1e-5 };
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    sru(x, { gamma, beta }, opts).dispose();
    const { value, grads } = tf.variableGrads(() => tf.sum(sru(x, { gamma, beta }, opts)) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, gamma, beta]);
});

test('the fused SRU kernel rejects inputs outside its contract with an error naming them', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const attrs = { groupNum: 4, threshold: 0.5, gate: 'soft', epsilon: 1e-5 };
  const call = (shape: number[], c = shape[shape.length - 1], dtype: 'float32' | 'int32' = 'float32') => () => tf.tidy(() =>
    tf.engine().runKernel(FUSED_SRU_KERNEL, { x: tf.zeros(shape, dtype), gamma: tf.ones([c]), beta: tf.zeros([c]) }, attrs));
  assert.throws(call([1, 2, 2, 6]), /^ValueError: SCConvSRU expects an even channel count divisible by groupNum=4, but received \[1,2,2,6\]\.$/);
  assert.throws(call([1, 2, 2, 5]), /even channel count/);
  assert.throws(call([1, 0, 2, 4]), /SCConvSRU expects x with at least one pixel/);
  assert.throws(call([2, 4]), /SCConvSRU expects x of rank 4/);
  assert.throws(call([1, 2, 2, 4], 2), /SCConvSRU expects gamma and beta of shape \[4\], but received \[2\]\./);
  assert.throws(call([1, 2, 2, 4], 4, 'int32'), /SCConvSRU expects float32 x, but received "int32"\./);
});
