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
 * Y1 comes as the GWC conv's output without its bias and the bias [C] (Y1 = y1 + bias, added in
 * both passes), so the bias's gradient, Σ over examples and pixels of dY1 = Σ_n (β1·Σ_hw dY + dS1),
 * comes from sums the first backward pass takes anyway instead of a Sum over dY1 after the conv.
 * Y2 comes as its two channel blocks [PWC2(lowS) | lowS] (Eq. 6), and dY2 leaves as the same two
 * blocks, so neither the concatenation nor its gradient's slices are materialised.
 *
 * CRU_SQUEEZE (the two squeezes and PWC2 as one three-output kernel, see src/layers/cru.ts) runs
 * three oneDNN matmuls, the squeezes reading their column block of x in place, and its gradient
 * kernel four matmuls for all four input gradients (native/src/cru.cc). CRU_FILTER (the GWC filter with
 * PWC1 folded in) and its gradient are index copies over a few thousand weights, done here.
 */
import * as tf from '@tensorflow/tfjs';
import { CRU_FILTER, CRU_FUSE, CRU_SQUEEZE, type CRUFusion } from '../layers/cru';
import { float32Arrays, output, withFallback, type KernelArgs } from './native_util';

/** The name of the gradient kernel (registered for the native backend only). */
export const CRU_FUSE_GRAD = 'SCConvCRUFuseGrad';

/** Fusion codes of the addon (native/src/cru.cc, enum Fusion). */
const FUSION: Record<CRUFusion, number> = { pairwise: 0, global: 1 };

/** [n, p, c, l] of y1 `[n, h, w, c]`, bias `[c]`, pwc2 `[n, h, w, c − l]`, low `[n, h, w, l]`; throws on other shapes. */
function plan(kernel: string, y1: tf.TensorInfo, bias: tf.TensorInfo, pwc2: tf.TensorInfo, low: tf.TensorInfo): [number, number, number, number] {
  const [n, h, w, c] = y1.shape;
  const l = low.shape[3];
  const ok = y1.shape.length === 4 && low.shape.length === 4 && pwc2.shape.length === 4 &&
    tf.util.arraysEqual(pwc2.shape, [n, h, w, c - l]) && tf.util.arraysEqual(low.shape, [n, h, w, l]) && h * w > 0 &&
    tf.util.arraysEqual(bias.shape, [c]);
  if (!ok) {
    throw new Error(`${kernel} expects y1 [n, h, w, c], bias [c], pwc2 [n, h, w, c − l] and low [n, h, w, l] with h·w > 0, ` +
      `but received y1 [${y1.shape}], bias [${bias.shape}], pwc2 [${pwc2.shape}], low [${low.shape}].`);
  }
  return [n, h * w, c, l];
}

/** The addon's code of attr fusion; throws naming `kernel` on any other value (SCConvInference reads it too). */
export function fusionCode(kernel: string, attrs: tf.NamedAttrMap | undefined): number {
  const fusion = attrs?.fusion as CRUFusion;
  if (!(fusion in FUSION)) {
    throw new Error(`${kernel} expects attr fusion 'pairwise' or 'global', but received ${String(fusion)}.`);
  }
  return FUSION[fusion];
}

/** Inputs {y1, bias, pwc2, low}, attr fusion → [Y `[n, h, w, c]`, β `[n, 2c]`]. */
const cruFuse = withFallback(CRU_FUSE, ({ inputs, backend, attrs }: KernelArgs) => {
  const { y1, bias, pwc2, low } = inputs;
  const [n, p, c, l] = plan(CRU_FUSE, y1, bias, pwc2, low);
  const fusion = fusionCode(CRU_FUSE, attrs);
  const [y1v, biasv, pwc2v, lowv] = float32Arrays(backend, CRU_FUSE, { y1, bias, pwc2, low });
  const y = output(backend, y1.shape), beta = output(backend, [n, 2 * c]);
  backend.addon.cruFuse(y1v, biasv, pwc2v, lowv, y.values, beta.values, n, p, c, l, fusion);
  return [y.info, beta.info];
});

/** Inputs {dy, dbeta, y1, bias, pwc2, low, beta}, attr fusion → [dy1, dbias, dpwc2, dlow]. */
const cruFuseGrad = withFallback(CRU_FUSE_GRAD, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dy, dbeta, y1, bias, pwc2, low, beta } = inputs;
  const [n, p, c, l] = plan(CRU_FUSE_GRAD, y1, bias, pwc2, low);
  const fusion = fusionCode(CRU_FUSE_GRAD, attrs);
  const v = float32Arrays(backend, CRU_FUSE_GRAD, { dy, dbeta, y1, bias, pwc2, low, beta });
  const dy1 = output(backend, y1.shape), dbias = output(backend, bias.shape), dpwc2 = output(backend, pwc2.shape),
    dlow = output(backend, low.shape);
  backend.addon.cruFuseGrad(v[0], v[1], v[2], v[3], v[4], v[5], v[6], dy1.values, dbias.values, dpwc2.values, dlow.values,
    n, p, c, l, fusion);
  return [dy1.info, dbias.info, dpwc2.info, dlow.info];
});

/** The gradient kernel of CRU_SQUEEZE (registered for the native backend only). */
export const CRU_SQUEEZE_GRAD = 'SCConvCRUSqueezeGrad';

/**
 * [m, c, up, a, b] of x [n, h, w, c] (m = n·h·w pixels), w1 [1, 1, up, a], w2 [1, 1, c − up, b],
 * pwc2 [1, 1, b, c − b]; throws on other shapes.
 */
function squeezePlan(kernel: string, x: tf.TensorInfo, w1: tf.TensorInfo, w2: tf.TensorInfo,
                     pwc2: tf.TensorInfo): [number, number, number, number, number] {
  const c = x.shape[3], m = tf.util.sizeFromShape(x.shape.slice(0, 3));
  const [, , up, a] = w1.shape, b = w2.shape[3];
  const ok = x.shape.length === 4 && m > 0 && up > 0 && up < c && a > 0 && b > 0 && b < c &&
    tf.util.arraysEqual(w1.shape, [1, 1, up, a]) && tf.util.arraysEqual(w2.shape, [1, 1, c - up, b]) &&
    tf.util.arraysEqual(pwc2.shape, [1, 1, b, c - b]);
  if (!ok) {
    throw new Error(`${kernel} expects x [n, h, w, c], w1 [1, 1, up, a], w2 [1, 1, c − up, b] and pwc2 [1, 1, b, c − b], ` +
      `none empty, but received x [${x.shape}], w1 [${w1.shape}], w2 [${w2.shape}], pwc2 [${pwc2.shape}].`);
  }
  return [m, c, up, a, b];
}

/** x's shape with its channels replaced by `channels`. */
const pixelsBy = (x: tf.TensorInfo, channels: number): number[] => [...x.shape.slice(0, 3), channels];

/** Inputs {x, w1, w2, pwc2} → [upS [n, h, w, a], lowS [n, h, w, b], y2p [n, h, w, c − b]] (src/layers/cru.ts, CRU_SQUEEZE). */
const cruSqueeze = withFallback(CRU_SQUEEZE, ({ inputs, backend }: KernelArgs) => {
  const { x, w1, w2, pwc2 } = inputs;
  const [m, c, up, a, b] = squeezePlan(CRU_SQUEEZE, x, w1, w2, pwc2);
  const [xv, w1v, w2v, pv] = float32Arrays(backend, CRU_SQUEEZE, { x, w1, w2, pwc2 });
  const upS = output(backend, pixelsBy(x, a)), lowS = output(backend, pixelsBy(x, b)), y2p = output(backend, pixelsBy(x, c - b));
  backend.addon.cruSqueeze(xv, w1v, w2v, pv, upS.values, lowS.values, y2p.values, m, c, up, a, b);
  return [upS.info, lowS.info, y2p.info];
});

/** Inputs {dup, dlow, dy2p, x, w1, w2, pwc2, lowS} → [dx, dw1, dw2, dpwc2]. */
const cruSqueezeGrad = withFallback(CRU_SQUEEZE_GRAD, ({ inputs, backend }: KernelArgs) => {
  const { dup, dlow, dy2p, x, w1, w2, pwc2, lowS } = inputs;
  const [m, c, up, a, b] = squeezePlan(CRU_SQUEEZE_GRAD, x, w1, w2, pwc2);
  const ok = tf.util.arraysEqual(dup.shape, pixelsBy(x, a)) && tf.util.arraysEqual(dlow.shape, pixelsBy(x, b)) &&
    tf.util.arraysEqual(lowS.shape, pixelsBy(x, b)) && tf.util.arraysEqual(dy2p.shape, pixelsBy(x, c - b));
  if (!ok) {
    throw new Error(`${CRU_SQUEEZE_GRAD} expects dup [n, h, w, a], dlow and lowS [n, h, w, b], dy2p [n, h, w, c − b] for x [${x.shape}], ` +
      `w1 [${w1.shape}], w2 [${w2.shape}], but received dup [${dup.shape}], dlow [${dlow.shape}], lowS [${lowS.shape}], dy2p [${dy2p.shape}].`);
  }
  const v = float32Arrays(backend, CRU_SQUEEZE_GRAD, { dup, dlow, dy2p, x, w1, w2, pwc2, lowS });
  const dx = output(backend, x.shape), dw1 = output(backend, w1.shape), dw2 = output(backend, w2.shape),
    dpwc2 = output(backend, pwc2.shape);
  backend.addon.cruSqueezeGrad(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], dx.values, dw1.values, dw2.values,
    dpwc2.values, m, c, up, a, b);
  return [dx.info, dw1.info, dw2.info, dpwc2.info];
});

/** The gradient kernel of CRU_FILTER (registered for the native backend only). */
export const CRU_FILTER_GRAD = 'SCConvCRUFilterGrad';

/**
 * [k, a, C, g, centre] of gwc [k, k, a/g, C], pwc1 [1, 1, a, C] and groups g, centre being the
 * filter's offset of its centre tap; throws on other shapes.
 * filter[y, x, i, o] holds gwc[y, x, i mod a/g, o] where input channel i and output channel o are
 * in the same group (i·g/a = o·g/C, rounded down), 0 elsewhere, plus pwc1[i, o] at the centre tap.
 */
function filterPlan(kernel: string, gwc: number[], pwc1: number[], groups: unknown): [number, number, number, number, number] {
  const [k, , cin, cOut] = gwc, g = groups as number, a = pwc1[2];
  const ok = gwc.length === 4 && gwc[1] === k && k % 2 === 1 && Number.isInteger(g) && g > 0 && cin * g === a &&
    cOut % g === 0 && tf.util.arraysEqual(pwc1, [1, 1, a, cOut]) && a * cOut > 0;
  if (!ok) {
    throw new Error(`${kernel} expects gwc [k, k, a/g, C] (k odd), pwc1 [1, 1, a, C] and groups g dividing C, ` +
      `but received gwc [${gwc}], pwc1 [${pwc1}], groups ${String(groups)}.`);
  }
  return [k, a, cOut, g, ((k * k - 1) / 2) * a * cOut];
}

/** Calls f(filterIndex, gwcIndex) for every filter entry inside a diagonal block. */
function forBlockEntries(k: number, a: number, cOut: number, g: number, f: (fi: number, gi: number) => void): void {
  const cin = a / g, coutPerGroup = cOut / g;
  for (let t = 0; t < k * k; t++) {
    for (let i = 0; i < a; i++) {
      const group = Math.floor(i / cin), row = (t * a + i) * cOut, gwcRow = (t * cin + (i % cin)) * cOut;
      for (let o = group * coutPerGroup; o < (group + 1) * coutPerGroup; o++) f(row + o, gwcRow + o);
    }
  }
}

/** Inputs {gwc, pwc1}, attr groups → filter [k, k, a, C] = blockDiag(gwc) + centre(pwc1). */
const cruFilter = withFallback(CRU_FILTER, ({ inputs, backend, attrs }: KernelArgs) => {
  const { gwc, pwc1 } = inputs;
  const [k, a, cOut, g, centre] = filterPlan(CRU_FILTER, gwc.shape, pwc1.shape, attrs?.groups);
  const [gv, pv] = float32Arrays(backend, CRU_FILTER, { gwc, pwc1 });
  const filter = output(backend, [k, k, a, cOut]);
  filter.values.fill(0);
  forBlockEntries(k, a, cOut, g, (fi, gi) => { filter.values[fi] = gv[gi]; });
  for (let j = 0; j < a * cOut; j++) filter.values[centre + j] += pv[j];
  return filter.info;
});

/** Inputs {dfilter, gwc, pwc1}, attr groups → [dgwc, dpwc1]: each weight's entries of dfilter. */
const cruFilterGrad = withFallback(CRU_FILTER_GRAD, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dfilter, gwc, pwc1 } = inputs;
  const [k, a, cOut, g, centre] = filterPlan(CRU_FILTER_GRAD, gwc.shape, pwc1.shape, attrs?.groups);
  if (!tf.util.arraysEqual(dfilter.shape, [k, k, a, cOut])) {
    throw new Error(`${CRU_FILTER_GRAD} expects dfilter [${[k, k, a, cOut]}], but received [${dfilter.shape}].`);
  }
  const [dv] = float32Arrays(backend, CRU_FILTER_GRAD, { dfilter });
  const dgwc = output(backend, gwc.shape), dpwc1 = output(backend, pwc1.shape);
  forBlockEntries(k, a, cOut, g, (fi, gi) => { dgwc.values[gi] = dv[fi]; });
  dpwc1.values.set(dv.subarray(centre, centre + a * cOut));
  return [dgwc.info, dpwc1.info];
});

export const cruKernels: tf.KernelConfig[] = [cruFuse, cruFuseGrad, cruSqueeze, cruSqueezeGrad, cruFilter, cruFilterGrad];

/** CRU_FUSE's gradient (see the header): one CRU_FUSE_GRAD call for all four inputs. */
export const cruFuseGradient: tf.GradConfig = {
  kernelName: CRU_FUSE,
  inputsToSave: ['y1', 'bias', 'pwc2', 'low'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dbeta] = dys as tf.Tensor[];
    const [y1, bias, pwc2, low, beta] = saved;
    const [dy1, dbias, dpwc2, dlow] = tf.engine().runKernel(CRU_FUSE_GRAD, { dy, dbeta, y1, bias, pwc2, low, beta },
      attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { y1: () => dy1, bias: () => dbias, pwc2: () => dpwc2, low: () => dlow };
  },
};

/** CRU_SQUEEZE's gradient: one CRU_SQUEEZE_GRAD call for all four inputs (see CRU_SQUEEZE). */
export const cruSqueezeGradient: tf.GradConfig = {
  kernelName: CRU_SQUEEZE,
  inputsToSave: ['x', 'w1', 'w2', 'pwc2'],
  outputsToSave: [false, true, false],
  gradFunc: (dys, saved) => {
    const [dup, dlow, dy2p] = dys as tf.Tensor[];
    const [x, w1, w2, pwc2, lowS] = saved;
    const [dx, dw1, dw2, dpwc2] = tf.engine().runKernel(CRU_SQUEEZE_GRAD, { dup, dlow, dy2p, x, w1, w2, pwc2, lowS }) as tf.Tensor[];
    return { x: () => dx, w1: () => dw1, w2: () => dw2, pwc2: () => dpwc2 };
  },
};

/** CRU_FILTER's gradient: one CRU_FILTER_GRAD call for both inputs. */
export const cruFilterGradient: tf.GradConfig = {
  kernelName: CRU_FILTER,
  inputsToSave: ['gwc', 'pwc1'],
  gradFunc: (dy, saved, attrs) => {
    const [gwc, pwc1] = saved;
    const [dgwc, dpwc1] = tf.engine().runKernel(CRU_FILTER_GRAD, { dfilter: dy as tf.Tensor, gwc, pwc1 },
      attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { gwc: () => dgwc, pwc1: () => dpwc1 };
  },
};
