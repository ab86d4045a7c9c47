/**
 * Batch norm over the channel (last) axis: the FusedBatchNorm kernel in one pass, and its
 * gradient in two passes (per-channel sums of dy and dy·(x − mean), then dx) through the
 * NativeBatchNormGrad kernel, instead of tfjs-core's ~15 full-size ops (gradients.ts routes
 * FusedBatchNorm's gradient here on the native backend).
 */
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAME, f32, output, withFallback, type KernelArgs } from './native_util';

/** The name of the multi-output gradient kernel (registered for the native backend only). */
export const NATIVE_BATCH_NORM_GRAD = 'NativeBatchNormGrad';

/** True when `t` holds one value per channel of `x` (shape [C] or [1, ..., 1, C]). */
export function perChannel(t: tf.TensorInfo | undefined | null, channels: number): boolean {
  if (t == null) return true;
  return tf.util.sizeFromShape(t.shape) === channels && (t.shape.length === 0 ? channels === 1
    : t.shape[t.shape.length - 1] === channels);
}

const fusedBatchNorm = withFallback(tf.FusedBatchNorm, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, mean, variance, offset, scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length === 0 || ![mean, variance, offset, scale].every((t) => perChannel(t, c))) return null;
  const xv = f32(backend, x), mv = f32(backend, mean), vv = f32(backend, variance);
  const ov = offset ? f32(backend, offset) : null, sv = scale ? f32(backend, scale) : null;
  if (!xv || !mv || !vv || (offset && !ov) || (scale && !sv)) return null;
  const out = output(backend, x.shape);
  backend.addon.batchNorm(xv, mv, vv, ov, sv, (attrs!.varianceEpsilon as number) ?? 0.001, out.values, c, 0);
  return out.info;
});

/** Inputs {dy, x, mean, variance, scale?} → [dx, dmean, dvariance, dscale, doffset]. */
const batchNormGrad: tf.KernelConfig = {
  kernelName: NATIVE_BATCH_NORM_GRAD,
  backendName: BACKEND_NAME,
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, x, mean, variance, scale } = inputs;
    const c = x.shape[x.shape.length - 1];
    const vals = [dy, x, mean, variance].map((t) => f32(backend, t));
    const sv = scale ? f32(backend, scale) : null;
    if (vals.some((v) => !v) || (scale && !sv)) {
      throw new Error(`${NATIVE_BATCH_NORM_GRAD} expects float32 inputs`);
    }
    const dx = output(backend, x.shape), dmean = output(backend, mean.shape),
      dvariance = output(backend, variance.shape), dscale = output(backend, scale ? scale.shape : mean.shape),
      doffset = output(backend, mean.shape);
    backend.addon.batchNormGrad(vals[0]!, vals[1]!, vals[2]!, vals[3]!, sv, attrs!.varianceEpsilon as number, c,
      dx.values, dmean.values, dvariance.values, dscale.values, doffset.values);
    return [dx.info, dmean.info, dvariance.info, dscale.info, doffset.info];
  },
};

export const batchNormKernels: tf.KernelConfig[] = [fusedBatchNorm, batchNormGrad];
