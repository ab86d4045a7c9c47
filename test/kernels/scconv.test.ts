/**
 * SCConv's one-kernel inference forward (SCCONV_INFERENCE: src/kernels/scconv.ts, native/src/scconv.cc)
 * against the composition of tfjs ops on cpu, CRU(SRU(x)) (src/layers/sru.ts, src/layers/cru.ts), on
 * the SCConvs of the CIFAR ResNets and odd ones (other α, k = 5, one group, widths that are not a
 * multiple of the conv's pixel block, a 1×1 map), both gates and both fusions; then the SCConv
 * layer's dispatch: the kernel outside gradient computations on native, never under a tape or on cpu.
 * The SRU's input comes from the SRU tests' data (fixtures/sru_data.ts), so no gate is within
 * rounding of its threshold.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { cru, CRU_FUSE, CRU_SQUEEZE, cruChannels, type CRUFusion, type CRUOptions, gwcFilter } from '../../src/layers/cru';
import { SCConv, SCCONV_INFERENCE } from '../../src/layers/scconv';
import { FUSED_SRU_KERNEL, sruComposed, type SRUGate, type SRUOptions } from '../../src/layers/sru';
import { gateMargin, makeData, type Shape4 } from './fixtures/sru_data';
import { assertClose, NATIVE_BACKEND_NAME, randomValues, skip } from './helpers';

interface Case { shape: Shape4; groupNum: number; alpha: number; groups: number; kernelSize: number; gate: SRUGate; fusion: CRUFusion; seed: number }

const CASES: Case[] = [
  // The SCConvs of SCConv-ResNet-20/56 (defaults: groupNum 4, α 0.5, r 2, g 2, k 3).
  { shape: [4, 32, 32, 16], groupNum: 4, alpha: 0.5, groups: 2, kernelSize: 3, gate: 'soft', fusion: 'pairwise', seed: 1 },
  { shape: [3, 16, 16, 32], groupNum: 4, alpha: 0.5, groups: 2, kernelSize: 3, gate: 'soft', fusion: 'global', seed: 11 },
  { shape: [2, 8, 8, 64], groupNum: 4, alpha: 0.5, groups: 2, kernelSize: 3, gate: 'hard', fusion: 'pairwise', seed: 22 },
  // C = 24, α = 0.375: up 9 → 4, low 15 → 7; W = 10 (two 4-pixel blocks and two single pixels); N = 1.
  { shape: [1, 6, 10, 24], groupNum: 4, alpha: 0.375, groups: 2, kernelSize: 3, gate: 'soft', fusion: 'pairwise', seed: 31 },
  // k = 5, one group, odd H and W, 2 GroupNorm groups.
  { shape: [3, 7, 5, 12], groupNum: 2, alpha: 0.5, groups: 1, kernelSize: 5, gate: 'hard', fusion: 'global', seed: 41 },
  // A 1×1 map: every tap but the centre reads padding.
  { shape: [2, 1, 1, 16], groupNum: 4, alpha: 0.5, groups: 2, kernelSize: 3, gate: 'soft', fusion: 'global', seed: 51 },
];

/** The case's SRU data, CRU weights and options (weights in [−0.5, 0.5), the bias too). */
function setup(c: Case) {
  const d = makeData(c.shape, c.seed);
  const sruOpts: SRUOptions = { groupNum: c.groupNum, threshold: 0.5, gate: c.gate, epsilon: 1e-5 };
  const cruOpts: CRUOptions = { alpha: c.alpha, squeezeRatio: 2, groups: c.groups, kernelSize: c.kernelSize, fusion: c.fusion };
  const p = cruChannels('test', c.shape[3], cruOpts);
  const k = c.kernelSize;
  const shapes: Record<string, number[]> = {
    squeeze1: [1, 1, p.up, p.upSqueezed], squeeze2: [1, 1, p.low, p.lowSqueezed],
    gwcKernel: [k, k, p.upSqueezed / c.groups, p.channels], gwcBias: [p.channels],
    pwc1: [1, 1, p.upSqueezed, p.channels], pwc2: [1, 1, p.lowSqueezed, p.channels - p.lowSqueezed],
  };
  const weights = Object.fromEntries(Object.entries(shapes).map(([name, shape], i) =>
    [name, randomValues(tf.util.sizeFromShape(shape), c.seed * 10 + i, -0.5, 0.5)]));
  const tensors = () => {
    const w = Object.fromEntries(Object.entries(weights).map(([name, v]) => [name, tf.tensor(v, shapes[name])]));
    return { x: tf.tensor4d(d.x, d.shape), gamma: tf.tensor1d(d.gamma), beta: tf.tensor1d(d.beta),
      w: w as unknown as Parameters<typeof cru>[2] };
  };
  return { d, sruOpts, cruOpts, p, tensors };
}

test('SCCONV_INFERENCE on native = CRU(SRU(x)) composed of tfjs ops on cpu', { skip }, () => {
  for (const c of CASES) {
    const { d, sruOpts, cruOpts, p, tensors } = setup(c);
    const what = `[${c.shape}] α ${c.alpha} g ${c.groups} k ${c.kernelSize} ${c.gate} ${c.fusion}`;
    const { margin } = gateMargin(d, sruOpts);
    assert.ok(margin >= 1e-5, `${what}: the test data puts w within ${margin} of t; pick another seed`);
    tf.setBackend('cpu');
    const expected = tf.tidy(() => {
      const { x, gamma, beta, w } = tensors();
      return cru(sruComposed(x, { gamma, beta }, sruOpts), p, w, cruOpts).dataSync() as Float32Array;
    });
    tf.setBackend(NATIVE_BACKEND_NAME);
    const actual = tf.tidy(() => {
      const { x, gamma, beta, w } = tensors();
      const inputs = { x, gamma, beta, w1: w.squeeze1, w2: w.squeeze2, pwc2: w.pwc2, filter: gwcFilter(w, cruOpts), bias: w.gwcBias };
      const attrs = { ...sruOpts, fusion: c.fusion } as unknown as tf.NamedAttrMap;
      return (tf.engine().runKernel(SCCONV_INFERENCE, inputs, attrs) as tf.Tensor).dataSync() as Float32Array;
    });
    assertClose(actual, expected, 1e-4, what);
  }
});

test('SCCONV_INFERENCE names every input\'s shape when they disagree', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const { tensors, sruOpts } = setup(CASES[0]);
  tf.tidy(() => {
    const { x, gamma, beta, w } = tensors();
    const inputs = { x, gamma, beta, w1: w.squeeze1, w2: w.squeeze2, pwc2: w.pwc2, filter: w.gwcKernel, bias: w.gwcBias };
    assert.throws(() => tf.engine().runKernel(SCCONV_INFERENCE, inputs, { ...sruOpts, fusion: 'pairwise' } as unknown as tf.NamedAttrMap),
      /SCConvInference expects .*filter \[k, k, a, c\] \(k odd\), but received .*filter \[3,3,2,16\]/);
  });
});

test('the SCConv layer runs SCCONV_INFERENCE outside gradient computations on native only, with the same output', { skip }, async () => {
  const layer = new SCConv({});
  const x = makeData([2, 8, 8, 16], 3);
  // The SRU's γ and β from the data's, so that no gate is within rounding of the threshold.
  tf.setBackend('cpu');
  layer.build(x.shape);
  layer.sru.gamma!.write(tf.tensor1d(x.gamma));
  layer.sru.beta!.write(tf.tensor1d(x.beta));
  assert.ok(gateMargin(x, layer.sru.options).margin >= 1e-5);
  const run = async (backend: string, taped: boolean) => {
    tf.setBackend(backend);
    const input = tf.tensor4d(x.x, x.shape);
    let y: Float32Array = new Float32Array();
    const info = await tf.profile(() => {
      if (!taped) {
        y = (layer.apply(input) as tf.Tensor).dataSync() as Float32Array;
        return;
      }
      const [g] = tf.grads((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))([input]);
      g.dispose();
    });
    input.dispose();
    return { y, names: info.kernelNames };
  };
  const inference = await run(NATIVE_BACKEND_NAME, false);
  // (and CRU_FILTER, which builds the GWC filter with PWC1 folded in on the first call and is kept)
  assert.ok(inference.names.includes(SCCONV_INFERENCE) &&
    ![FUSED_SRU_KERNEL, CRU_SQUEEZE, CRU_FUSE, 'Conv2D'].some((n) => inference.names.includes(n)), `native ran ${inference.names}`);
  const taped = await run(NATIVE_BACKEND_NAME, true);
  assert.ok(!taped.names.includes(SCCONV_INFERENCE) && taped.names.includes(FUSED_SRU_KERNEL), `native under a tape ran ${taped.names}`);
  const cpu = await run('cpu', false);
  assert.ok(!cpu.names.includes(SCCONV_INFERENCE), `cpu ran ${cpu.names}`);
  assertClose(inference.y, cpu.y, 1e-4, 'SCConv layer output, native inference against cpu');
  layer.cru.releaseFusedFilter();  // (dispose() refuses a layer applied to tensors only)
});
