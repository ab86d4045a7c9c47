/**
 * SCConv's inference forward (SRU then CRU, paper Eq. 1–9) as one native kernel, SCCONV_INFERENCE,
 * which src/layers/scconv.ts dispatches to outside gradient computations. native/src/scconv.cc takes
 * each example through the SRU's statistics, gates and reconstruction, the CRU's squeezes and PWC2,
 * the Y1 conv and the fuse while its data stays in the core's cache, where the composed path
 * (SCConvSRU, SCConvCRUSqueeze, a conv, SCConvCRUFuse) writes four full-batch intermediates to
 * memory and reads them back. Same maths as those four kernels; no gradient (none is registered:
 * the layer never calls it on a tape).
 */
import * as tf from '@tensorflow/tfjs';
import type { CRUFusion } from '../layers/cru';
import { SCCONV_INFERENCE } from '../layers/scconv';
import type { SRUOptions } from '../layers/sru';
import { fusionCode } from './cru';
import { float32Arrays, output, withFallback, type KernelArgs } from './native_util';

/** The attrs of SCCONV_INFERENCE: the SRU's options and the CRU's fusion. */
export type SCConvInferenceAttrs = SRUOptions & { fusion: CRUFusion };

/**
 * dims [n, h, w, c, groups, hard, up, a, b, k, fusion] of the addon call from the inputs' shapes:
 * x [n, h, w, c], gamma and beta [c], w1 [1, 1, up, a], w2 [1, 1, c − up, b], pwc2 [1, 1, b, c − b],
 * filter [k, k, a, c] (k odd), bias [c]; throws naming every shape on any other.
 */
function dims(inputs: Record<string, tf.TensorInfo>, o: SCConvInferenceAttrs): number[] {
  const { x, gamma, beta, w1, w2, pwc2, filter, bias } = inputs;
  const [n, h, w, c] = x.shape;
  const [, , up, a] = w1.shape, b = w2.shape[3], k = filter.shape[0];
  const same = (t: tf.TensorInfo, shape: number[]) => tf.util.arraysEqual(t.shape, shape);
  const ok = x.shape.length === 4 && h * w > 0 && c % 2 === 0 && c % o.groupNum === 0 && same(gamma, [c]) &&
    same(beta, [c]) && same(bias, [c]) && up > 0 && up < c && a > 0 && b > 0 && b < c && k % 2 === 1 &&
    same(w1, [1, 1, up, a]) && same(w2, [1, 1, c - up, b]) && same(pwc2, [1, 1, b, c - b]) && same(filter, [k, k, a, c]);
  if (!ok) {
    throw new Error(`${SCCONV_INFERENCE} expects x [n, h, w, c] (h·w > 0, c even and divisible by groupNum = ` +
      `${o.groupNum}), gamma, beta and bias [c], w1 [1, 1, up, a], w2 [1, 1, c − up, b], pwc2 [1, 1, b, c − b] and ` +
      `filter [k, k, a, c] (k odd), but received ` +
      Object.entries(inputs).map(([name, t]) => `${name} [${t.shape}]`).join(', ') + '.');
  }
  const fusion = fusionCode(SCCONV_INFERENCE, o as unknown as tf.NamedAttrMap);
  return [n, h, w, c, o.groupNum, o.gate === 'hard' ? 1 : 0, up, a, b, k, fusion];
}

/** Inputs {x, gamma, beta, w1, w2, pwc2, filter, bias}, attrs {@link SCConvInferenceAttrs} → y [n, h, w, c]. */
const scconvInference = withFallback(SCCONV_INFERENCE, ({ inputs, backend, attrs }: KernelArgs) => {
  const o = attrs as unknown as SCConvInferenceAttrs;
  const d = dims(inputs, o);
  const { x, gamma, beta, w1, w2, pwc2, filter, bias } = inputs;
  const v = float32Arrays(backend, SCCONV_INFERENCE, { x, gamma, beta, w1, w2, pwc2, filter, bias });
  const y = output(backend, x.shape);
  backend.addon.scconvInference(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], y.values, Int32Array.from(d),
    o.threshold, o.epsilon);
  return y.info;
});

export const scconvKernels: tf.KernelConfig[] = [scconvInference];
