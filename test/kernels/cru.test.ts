/**
 * The fused CRU on the native backend (CRU_SQUEEZE, CRU_FILTER: PWC1 folded into the GWC's conv,
 * CRU_FUSE, and their gradient kernels) against the unfused tfjs composition on cpu: values, and
 * the gradients of sum(y·r) for the input and every CRU weight, on the CIFAR ResNets' shapes and odd ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CRU_FILTER, CRU_FUSE, CRU_SQUEEZE, cru, cruBetas, cruChannels, type CRUFusion, CRU_FUSIONS, type CRUOptions, hasFusedCRU } from '../../src/layers/cru';
import { CRU_FILTER_GRAD, CRU_FUSE_GRAD, CRU_SQUEEZE_GRAD } from '../../src/kernels/cru';
import { gradsSameAsCpu, NATIVE_BACKEND_NAME, type InputSpec, skip } from './helpers';

interface Case { shape: [number, number, number, number]; alpha: number; groups: number; kernelSize: number }

/** The CRUs of SCConv-ResNet-20/56 (scconv.ts defaults α 0.5, r 2, g 2, k 3) and odd ones. */
const CASES: Case[] = [
  { shape: [2, 32, 32, 16], alpha: 0.5, groups: 2, kernelSize: 3 },
  { shape: [2, 16, 16, 32], alpha: 0.5, groups: 2, kernelSize: 3 },
  { shape: [2, 8, 8, 64], alpha: 0.5, groups: 2, kernelSize: 3 },
  // C = 24, α = 0.375: up 9 → 4, low 15 → 7 (PWC2 maps 7 to 17); H ≠ W; N = 1.
  { shape: [1, 6, 10, 24], alpha: 0.375, groups: 2, kernelSize: 3 },
  // k = 5 (PWC1 at the centre of a 5×5 tap), one group, odd H and W.
  { shape: [3, 7, 5, 12], alpha: 0.5, groups: 1, kernelSize: 5 },
];

function setup(c: Case, fusion: CRUFusion): { specs: InputSpec[]; f: (...xs: tf.Tensor[]) => tf.Tensor } {
  const o: CRUOptions = { alpha: c.alpha, squeezeRatio: 2, groups: c.groups, kernelSize: c.kernelSize, fusion };
  const p = cruChannels('test', c.shape[3], o);
  const k = c.kernelSize;
  const specs: InputSpec[] = [
    { shape: c.shape },
    { shape: [1, 1, p.up, p.upSqueezed] },
    { shape: [1, 1, p.low, p.lowSqueezed] },
    { shape: [k, k, p.upSqueezed / c.groups, p.channels], lo: -0.5, hi: 0.5 },
    { shape: [p.channels] },
    { shape: [1, 1, p.upSqueezed, p.channels] },
    { shape: [1, 1, p.lowSqueezed, p.channels - p.lowSqueezed] },
  ];
  const f = (x: tf.Tensor, squeeze1: tf.Tensor, squeeze2: tf.Tensor, gwcKernel: tf.Tensor, gwcBias: tf.Tensor,
             pwc1: tf.Tensor, pwc2: tf.Tensor) =>
    cru(x as tf.Tensor4D, p, { squeeze1, squeeze2, gwcKernel, gwcBias, pwc1, pwc2 }, o);
  return { specs, f: f as (...xs: tf.Tensor[]) => tf.Tensor };
}

for (const fusion of CRU_FUSIONS) {
  test(`fused CRU (${fusion}) on native = the tfjs composition on cpu: values and gradients of input and weights`, { skip }, () => {
    for (const c of CASES) {
      const { specs, f } = setup(c, fusion);
      gradsSameAsCpu(`CRU ${fusion} ${c.shape} α ${c.alpha} g ${c.groups} k ${c.kernelSize}`, specs, f, 1e-4);
    }
  });
}

test('the CRU dispatches: its kernels and their gradient kernels on native, no Concat, Slice or PadV2; the composition on cpu', { skip }, async () => {
  const { specs, f } = setup(CASES[3], 'pairwise');
  const kernels = async (backend: string) => {
    tf.setBackend(backend);
    const info = await tf.profile(() => {
      const xs = specs.map((s) => tf.randomUniform(s.shape));
      return tf.grads((...ys: tf.Tensor[]) => tf.sum(f(...ys)))(xs);
    });
    // Full-size concatenations to C channels: Y2 = [PWC2 | lowS] (Eq. 6); the fused path has none.
    const size = tf.util.sizeFromShape(CASES[3].shape);
    const y2Concats = info.kernels.filter((k) => k.name === 'Concat' && k.outputShapes[0]?.slice(-1)[0] === CASES[3].shape[3] &&
      tf.util.sizeFromShape(k.outputShapes[0]) === size);
    return { fused: hasFusedCRU(), names: info.kernelNames, y2Concats: y2Concats.length };
  };
  const native = await kernels(NATIVE_BACKEND_NAME);
  assert.ok(native.fused);
  for (const name of [CRU_SQUEEZE, CRU_SQUEEZE_GRAD, CRU_FILTER, CRU_FILTER_GRAD, CRU_FUSE, CRU_FUSE_GRAD]) {
    assert.ok(native.names.includes(name), `native ran ${native.names}`);
  }
  // The squeezes read their part of x in place and the filter is built in one kernel: nothing to cut or pad.
  for (const name of ['Concat', 'Slice', 'PadV2']) assert.ok(!native.names.includes(name), `native ran ${native.names}`);
  const cpu = await kernels('cpu');
  assert.ok(!cpu.fused && !cpu.names.includes(CRU_FUSE) && cpu.y2Concats === 1, `cpu ran ${cpu.names}`);
});

test('CRU_FUSE\'s β output = cruBetas, and a gradient through β reaches y1, bias, pwc2 and low', { skip }, () => {
  for (const fusion of CRU_FUSIONS) {
    // Y1 = y1 [2, 5, 3, 6] + bias [6], Y2 = [pwc2 [.., 4] | low [.., 2]]; the loss sees both y and β.
    gradsSameAsCpu(`β ${fusion}`, [{ shape: [2, 5, 3, 6] }, { shape: [6] }, { shape: [2, 5, 3, 4] }, { shape: [2, 5, 3, 2], lo: 0, hi: 3 }],
      (y1, bias, pwc2, low) => {
        let y: tf.Tensor, beta: tf.Tensor;
        if (tf.getBackend() === NATIVE_BACKEND_NAME) {
          [y, beta] = tf.engine().runKernel(CRU_FUSE, { y1, bias, pwc2, low }, { fusion }) as tf.Tensor[];
        } else {
          const y1b = tf.add(y1, bias) as tf.Tensor4D;
          const y2 = tf.concat([pwc2, low], 3) as tf.Tensor4D;
          const { beta1, beta2 } = cruBetas(y1b, y2, fusion);
          y = tf.add(tf.mul(beta1, y1b), tf.mul(beta2, y2));
          beta = tf.concat([beta1, beta2], 3);
        }
        return tf.concat([tf.reshape(y, [-1]), tf.mul(tf.reshape(beta, [-1]), 10)]);
      });
  }
});

test('CRU_FUSE, CRU_SQUEEZE and CRU_FILTER name a bad fusion, mismatched shapes and bad groups', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  try {
    const y1 = tf.zeros([1, 2, 2, 4]), bias = tf.zeros([4]), pwc2 = tf.zeros([1, 2, 2, 3]), low = tf.zeros([1, 2, 2, 1]);
    assert.throws(() => tf.engine().runKernel(CRU_FUSE, { y1, bias, pwc2, low }, { fusion: 'sum' }),
      /SCConvCRUFuse expects attr fusion 'pairwise' or 'global', but received sum\./);
    assert.throws(() => tf.engine().runKernel(CRU_FUSE, { y1, bias, pwc2: low, low }, { fusion: 'global' }),
      /expects y1 \[n, h, w, c\], bias \[c\], pwc2 \[n, h, w, c − l\] and low \[n, h, w, l\] .* but received y1 \[1,2,2,4\], bias \[4\], pwc2 \[1,2,2,1\], low \[1,2,2,1\]\./);
    assert.throws(() => tf.engine().runKernel(CRU_FUSE, { y1, bias: tf.zeros([3]), pwc2, low }, { fusion: 'global' }),
      /but received y1 \[1,2,2,4\], bias \[3\], pwc2 \[1,2,2,3\], low \[1,2,2,1\]\./);
    const w1 = tf.zeros([1, 1, 1, 2]), w2 = tf.zeros([1, 1, 2, 1]), pwc2w = tf.zeros([1, 1, 1, 2]);
    assert.throws(() => tf.engine().runKernel(CRU_SQUEEZE, { x: tf.zeros([1, 2, 2, 3]), w1, w2: w1, pwc2: pwc2w }),
      /SCConvCRUSqueeze expects x \[n, h, w, c\], w1 \[1, 1, up, a\], w2 \[1, 1, c − up, b\] and pwc2 \[1, 1, b, c − b\], none empty, but received x \[1,2,2,3\], w1 \[1,1,1,2\], w2 \[1,1,1,2\], pwc2 \[1,1,1,2\]\./);
    assert.throws(() => tf.engine().runKernel(CRU_SQUEEZE, { x: tf.zeros([1, 2, 2, 3], 'int32'), w1, w2, pwc2: pwc2w }),
      /SCConvCRUSqueeze expects float32 x, but received "int32"\./);
    const gwc = tf.zeros([3, 3, 2, 4]), pwc1 = tf.zeros([1, 1, 4, 4]);
    assert.throws(() => tf.engine().runKernel(CRU_FILTER, { gwc, pwc1 }, { groups: 3 }),
      /SCConvCRUFilter expects gwc \[k, k, a\/g, C\] \(k odd\), pwc1 \[1, 1, a, C\] and groups g dividing C, but received gwc \[3,3,2,4\], pwc1 \[1,1,4,4\], groups 3\./);
  } finally {
    tf.setBackend('cpu');
  }
});
