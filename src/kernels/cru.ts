/**
 * The CRU's fuse step (SCConv, paper Eq. 7–9) as one native kernel, with a fused gradient:
 * pooling, the pairwise or global soft attention and the weighted sum in two passes over Y1 and
 * Y2, where tfjs ops take a matmul pooling per branch, a concat (Y2's feature reuse), and several
 * broadcast products, subtractions and sums, each a full-size pass forward and again backward.
 * src/layers/cru.ts dispatches to it (CRU_FUSE) when the current backend has it.
 *
 * Gradient, per example and channel (β broadcast over the P pixels), with S = the pixel means of
 * Y1, Y2 (Eq. 7), β from S (Eq. 8) and Y = β1·Y1 + β2·Y2 (Eq. 9), for an upstream dY:
 *   dβ_k = Σ_hw dY·Y_k  (plus the upstream gradient of the β output, if any)
 *   pairwise β1 = σ(S1 − S2), β2 = 1 − β1:  dS1 = (dβ1 − dβ2)·β1·β2,  dS2 = −dS1
 *   global β = softmax([S1 | S2]) over 2C:  dS_j = β_j·(dβ_j − Σ_k β_k·dβ_k)
 *   dY_k = β_k·dY + dS_k / P  (a mean spreads its gradient evenly over the pixels)
 * Y2 comes as its two channel blocks [PWC2(lowS) | lowS] (Eq. 6), and dY2 leaves as the same two
 * blocks, so neither the concatenation nor its gradient's slices are materialised.
 *
 * CRU_SQUEEZE (the two 1×1 squeezes as one two-output kernel, see src/layers/cru.ts) runs two
 * oneDNN matmuls; its gradient is plain tfjs ops, one full-size matmul for dx instead of two and an add.
 */
import * as tf from '@tensorflow/tfjs';
import { CRU_FUSE, CRU_SQUEEZE, type CRUFusion } from '../layers/cru';
import { float32Arrays, output, withFallback, type KernelArgs } from './native_util';

/** The name of the gradient kernel (registered for the native backend only). */
export const CRU_FUSE_GRAD = 'SCConvCRUFuseGrad';

/** Fusion codes of the addon (native/src/cru.cc, enum Fusion). */
const FUSION: Record<CRUFusion, number> = { pairwise: 0, global: 1 };

/** [n, p, c, l] of y1 `[n, h, w, c]`, pwc2 `[n, h, w, c − l]`, low `[n, h, w, l]`; throws on other shapes. */
function plan(kernel: string, y1: tf.TensorInfo, pwc2: tf.TensorInfo, low: tf.TensorInfo): [number, number, number, number] {
  const [n, h, w, c] = y1.shape;
  const l = low.shape[3];
  const ok = y1.shape.length === 4 && low.shape.length === 4 && pwc2.shape.length === 4 &&
    tf.util.arraysEqual(pwc2.shape, [n, h, w, c - l]) && tf.util.arraysEqual(low.shape, [n, h, w, l]) && h * w > 0;
  if (!ok) {
    throw new Error(`${kernel} expects y1 [n, h, w, c], pwc2 [n, h, w, c − l] and low [n, h, w, l] with h·w > 0, ` +
      `but received y1 [${y1.shape}], pwc2 [${pwc2.shape}], low [${low.shape}].`);
  }
  return [n, h * w, c, l];
}

function fusionCode(kernel: string, attrs: tf.NamedAttrMap | undefined): number {
  const fusion = attrs?.fusion as CRUFusion;
  if (!(fusion in FUSION)) {
    throw new Error(`${kernel} expects attr fusion 'pairwise' or 'global', but received ${String(fusion)}.`);
  }
  return FUSION[fusion];
}

/** Inputs {y1, pwc2, low}, attr fusion → [Y `[n, h, w, c]`, β `[n, 2c]`]. */
const cruFuse = withFallback(CRU_FUSE, ({ inputs, backend, attrs }: KernelArgs) => {
  const { y1, pwc2, low } = inputs;
  const [n, p, c, l] = plan(CRU_FUSE, y1, pwc2, low);
  const fusion = fusionCode(CRU_FUSE, attrs);
  const [y1v, pwc2v, lowv] = float32Arrays(backend, CRU_FUSE, { y1, pwc2, low });
  const y = output(backend, y1.shape), beta = output(backend, [n, 2 * c]);
  backend.addon.cruFuse(y1v, pwc2v, lowv, y.values, beta.values, n, p, c, l, fusion);
  return [y.info, beta.info];
});

/** Inputs {dy, dbeta, y1, pwc2, low, beta}, attr fusion → [dy1, dpwc2, dlow]. */
const cruFuseGrad = withFallback(CRU_FUSE_GRAD, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dy, dbeta, y1, pwc2, low, beta } = inputs;
  const [n, p, c, l] = plan(CRU_FUSE_GRAD, y1, pwc2, low);
  const fusion = fusionCode(CRU_FUSE_GRAD, attrs);
  const [dyv, dbetav, y1v, pwc2v, lowv, betav] = float32Arrays(backend, CRU_FUSE_GRAD, { dy, dbeta, y1, pwc2, low, beta });
  const dy1 = output(backend, y1.shape), dpwc2 = output(backend, pwc2.shape), dlow = output(backend, low.shape);
  backend.addon.cruFuseGrad(dyv, dbetav, y1v, pwc2v, lowv, betav, dy1.values, dpwc2.values, dlow.values, n, p, c, l, fusion);
  return [dy1.info, dpwc2.info, dlow.info];
});

/** Inputs {x [m, c], k1 [c, a], k2 [c, b]} → [x·k1, x·k2]. */
const cruSqueeze = withFallback(CRU_SQUEEZE, ({ inputs, backend }: KernelArgs) => {
  const { x, k1, k2 } = inputs;
  const [m, c] = x.shape, a = k1.shape[1], b = k2.shape[1];
  const ok = x.shape.length === 2 && k1.shape.length === 2 && k2.shape.length === 2 && k1.shape[0] === c &&
    k2.shape[0] === c && m * c * a * b > 0;
  if (!ok) {
    throw new Error(`${CRU_SQUEEZE} expects x [m, c], k1 [c, a] and k2 [c, b], none empty, but received ` +
      `x [${x.shape}], k1 [${k1.shape}], k2 [${k2.shape}].`);
  }
  const [xv, k1v, k2v] = float32Arrays(backend, CRU_SQUEEZE, { x, k1, k2 });
  const up = output(backend, [m, a]), low = output(backend, [m, b]);
  backend.addon.matMul(xv, k1v, up.values, 1, 1, m, c, a, 0, 0);
  backend.addon.matMul(xv, k2v, low.values, 1, 1, m, c, b, 0, 0);
  return [up.info, low.info];
});

export const cruKernels: tf.KernelConfig[] = [cruFuse, cruFuseGrad, cruSqueeze];

/** CRU_FUSE's gradient (see the header): one CRU_FUSE_GRAD call for all three inputs. */
export const cruFuseGradient: tf.GradConfig = {
  kernelName: CRU_FUSE,
  inputsToSave: ['y1', 'pwc2', 'low'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dbeta] = dys as tf.Tensor[];
    const [y1, pwc2, low, beta] = saved;
    const [dy1, dpwc2, dlow] = tf.engine().runKernel(CRU_FUSE_GRAD, { dy, dbeta, y1, pwc2, low, beta },
      attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { y1: () => dy1, pwc2: () => dpwc2, low: () => dlow };
  },
};

/** CRU_SQUEEZE's gradient: dS = [dup | dlow], dx = dS·[k1 | k2]ᵀ, [dk1 | dk2] = xᵀ·dS. */
export const cruSqueezeGradient: tf.GradConfig = {
  kernelName: CRU_SQUEEZE,
  inputsToSave: ['x', 'k1', 'k2'],
  gradFunc: (dys, saved) => {
    const [x, k1, k2] = saved;
    const dS = tf.concat(dys as tf.Tensor[], 1);
    const dK = tf.matMul(x, dS, true, false);
    const a = k1.shape[1] as number;
    return {
      x: () => tf.matMul(dS, tf.concat([k1, k2], 1), false, true),
      k1: () => tf.slice(dK, [0, 0], [-1, a]),
      k2: () => tf.slice(dK, [0, a], [-1, -1]),
    };
  },
};
