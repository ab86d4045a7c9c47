/**
 * SCConv's SRU (paper Eq. 1–4) as two native kernels, which `sru()` in src/layers/sru.ts dispatches
 * to on this backend: SCConvSRU (x, γ, β → y and the per-(sample, group) mean and rstd) in two
 * passes over x, and its gradient SCConvSRUGrad (dy, x, γ, β, mean, rstd → dx, dγ, dβ) in two
 * passes over x and dy (one for the hard gate), instead of the composition's 44 kernel calls
 * forward (a C×C matmul among them) and 166 backward. native/src/sru.cc derives the backward.
 *
 * The kernels take every input the SRU layer accepts; anything else (another dtype or rank, an odd
 * channel count, groups not dividing it, no pixels) is an error naming the input, never a silent
 * cpu fallback (there is no cpu kernel of these names).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { FUSED_SRU_KERNEL, type SRUOptions } from '../layers/sru';
import { float32Arrays, output, withFallback, type KernelArgs } from './native_util';

/** The name of the gradient kernel (inputs {dy, x, gamma, beta, mean, rstd} → [dx, dgamma, dbeta]). */
export const FUSED_SRU_GRAD_KERNEL = 'SCConvSRUGrad';

/** The float32 arrays of `inputs` (in order) and x's geometry, checked against the kernel contract. */
function checked(kernel: string, inputs: Record<string, tf.TensorInfo>, names: string[], backend: KernelArgs['backend'],
                 attrs: SRUOptions): { arrays: Float32Array[]; n: number; hw: number; c: number } {
  const { x, gamma, beta } = inputs;
  expect(x.shape.length === 4, kernel, 'x of rank 4 ([N, H, W, C])', x.shape);
  const [n, h, w, c] = x.shape;
  expect(h * w >= 1, kernel, 'x with at least one pixel (GroupNorm statistics of no pixels are undefined)', x.shape);
  expect(c % 2 === 0 && c > 0 && c % attrs.groupNum === 0, kernel,
    `an even channel count divisible by groupNum=${attrs.groupNum}`, x.shape);
  for (const t of [gamma, beta]) expect(tf.util.arraysEqual(t.shape, [c]), kernel, `gamma and beta of shape [${c}]`, t.shape);
  const arrays = float32Arrays(backend, kernel, Object.fromEntries(names.map((name) => [name, inputs[name]])));
  return { arrays, n, hw: h * w, c };
}

const sruForward = withFallback(FUSED_SRU_KERNEL, ({ inputs, backend, attrs }: KernelArgs) => {
  const o = attrs as unknown as SRUOptions;
  const { arrays: [x, gamma, beta], n, hw, c } = checked(FUSED_SRU_KERNEL, inputs, ['x', 'gamma', 'beta'], backend, o);
  const y = output(backend, inputs.x.shape), mean = output(backend, [n, o.groupNum]), rstd = output(backend, [n, o.groupNum]);
  backend.addon.sruForward(x, gamma, beta, y.values, mean.values, rstd.values, n, hw, c, o.groupNum, o.threshold,
    o.gate === 'hard' ? 1 : 0, o.epsilon);
  return [y.info, mean.info, rstd.info];
});

const sruBackward = withFallback(FUSED_SRU_GRAD_KERNEL, ({ inputs, backend, attrs }: KernelArgs) => {
  const o = attrs as unknown as SRUOptions;
  const { arrays: [dy, x, gamma, beta, mean, rstd], n, hw, c } =
    checked(FUSED_SRU_GRAD_KERNEL, inputs, ['dy', 'x', 'gamma', 'beta', 'mean', 'rstd'], backend, o);
  const dx = output(backend, inputs.x.shape), dgamma = output(backend, [c]), dbeta = output(backend, [c]);
  backend.addon.sruBackward(dy, x, gamma, beta, mean, rstd, dx.values, dgamma.values, dbeta.values, n, hw, c,
    o.groupNum, o.threshold, o.gate === 'hard' ? 1 : 0);
  return [dx.info, dgamma.info, dbeta.info];
});

export const sruKernels: tf.KernelConfig[] = [sruForward, sruBackward];

/**
 * The gradient of SCConvSRU with respect to x, γ and β from the gradient of y. The mean and rstd
 * outputs exist for this gradient only (sru() disposes them), so no gradient flows into them.
 */
export const sruGradient: tf.GradConfig = {
  kernelName: FUSED_SRU_KERNEL,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, beta, mean, rstd] = saved;
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [dx, dgamma, dbeta] = tf.engine().runKernel(FUSED_SRU_GRAD_KERNEL, { dy, x, gamma, beta, mean, rstd },
      attrs as tf.NamedAttrMap) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};
