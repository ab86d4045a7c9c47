/**
 * Batch norm over the channel (last) axis: the FusedBatchNorm kernel in one pass, and its
 * gradient in two passes (per-channel sums of dy and dy·(x − mean), then dx) through the
 * NativeBatchNormGrad kernel, instead of tfjs-core's ~15 full-size ops (gradients.ts routes
 * FusedBatchNorm's gradient here on the native backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { Provenance } from './native_backend';
import { f32, output, withFallback, type BatchStats, type KernelArgs } from './native_util';

/** The name of the multi-output gradient kernel (registered for the native backend only). */
export const NATIVE_BATCH_NORM_GRAD = 'NativeBatchNormGrad';

/** True when `t` holds one value per channel of `x` (shape [C] or [1, ..., 1, C]). */
export function perChannel(t: tf.TensorInfo | undefined | null, channels: number): boolean {
  if (t == null) return true;
  return tf.util.sizeFromShape(t.shape) === channels && (t.shape.length === 0 ? channels === 1
    : t.shape[t.shape.length - 1] === channels);
}

/**
 * The batch statistics of `x` when `mean` and `variance` are tfjs-core's `moments(x, all axes but
 * the last)`, computed by the native kernels and recorded on the active gradient tape: mean =
 * Mean(x), variance = Mean(Square(Sub(x, mean))); null otherwise. That is how tfjs-layers'
 * BatchNormalization trains. Then the batch-norm gradient can fold the mean and variance paths
 * into dx (the two-pass formula PyTorch uses) and hand zeros to the Mean/Square/Sub gradient
 * nodes, which the native kernels then skip.
 */
function tapedBatchStats(backend: KernelArgs['backend'], x: tf.TensorInfo, mean: tf.TensorInfo,
                         variance: tf.TensorInfo): BatchStats | null {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: TapeNode[] | null } }).state;
  const tape = state.activeTape;
  if (state.gradientDepth === 0 || !tape) return null;
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const isMean = (p: Provenance | undefined) => p?.op === 'mean' && tf.util.arraysEqual(p.axes ?? [], axes);
  const pm = backend.provenance.get(mean.dataId), pv = backend.provenance.get(variance.dataId);
  if (!isMean(pm) || pm!.a !== x.dataId || !isMean(pv)) return null;
  const sq = pv!.a, ps = backend.provenance.get(sq);
  if (ps?.op !== 'square') return null;
  const diff = ps.a, pd = backend.provenance.get(diff);
  if (pd?.op !== 'sub' || pd.a !== x.dataId || pd.b !== mean.dataId) return null;
  // All four ops must be on the tape (else their gradients would not run and dx must not include them).
  const wanted = new Set<tf.DataId>([mean.dataId, variance.dataId, sq, diff]);
  for (let i = tape.length - 1; i >= Math.max(0, tape.length - 64) && wanted.size > 0; i--) {
    for (const o of tape[i].outputs) wanted.delete(o.dataId);
  }
  return wanted.size === 0 ? { x: x.dataId, variance: variance.dataId, centered: diff } : null;
}

interface TapeNode { kernelName: string; outputs: tf.TensorInfo[] }

const fusedBatchNorm = withFallback(tf.FusedBatchNorm, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, mean, variance, offset, scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length === 0 || c === 0 || ![mean, variance, offset, scale].every((t) => perChannel(t, c))) return null;
  const xv = f32(backend, x), mv = f32(backend, mean), vv = f32(backend, variance);
  const ov = offset ? f32(backend, offset) : null, sv = scale ? f32(backend, scale) : null;
  if (!xv || !mv || !vv || (offset && !ov) || (scale && !sv)) return null;
  const out = output(backend, x.shape);
  backend.addon.batchNorm(xv, mv, vv, ov, sv, (attrs!.varianceEpsilon as number) ?? 0.001, out.values, c, 0);
  const stats = tapedBatchStats(backend, x, mean, variance);
  if (stats) backend.batchStats.set(mean.dataId, stats);
  return out.info;
});

/**
 * Inputs {dy, x, mean, variance, scale?} → [dx, dmean, dvariance, dscale, doffset]. When `mean` is
 * a recorded batch mean of `x` (tapedBatchStats), dx is the full training-mode gradient and
 * dmean, dvariance are known zeros.
 */
const batchNormGrad = withFallback(NATIVE_BATCH_NORM_GRAD, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dy, x, mean, variance, scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  const vals = [dy, x, mean, variance].map((t) => f32(backend, t));
  const sv = scale ? f32(backend, scale) : null;
  if (vals.some((v) => !v) || (scale && !sv)) {
    throw new Error(`${NATIVE_BATCH_NORM_GRAD} expects float32 inputs`);
  }
  const stats = backend.batchStats.get(mean.dataId);
  const full = stats !== undefined && stats.x === x.dataId && stats.variance === variance.dataId;
  const dx = output(backend, x.shape), dmean = output(backend, mean.shape),
    dvariance = output(backend, variance.shape), dscale = output(backend, scale ? scale.shape : mean.shape),
    doffset = output(backend, mean.shape);
  backend.addon.batchNormGrad(vals[0]!, vals[1]!, vals[2]!, vals[3]!, sv, attrs!.varianceEpsilon as number, c,
    dx.values, dmean.values, dvariance.values, dscale.values, doffset.values, full ? 1 : 0);
  if (!full) return [dx.info, dmean.info, dvariance.info, dscale.info, doffset.info];
  backend.disposeIntermediateTensorInfo(dmean.info);
  backend.disposeIntermediateTensorInfo(dvariance.info);
  return [dx.info, backend.zeros(mean.shape), backend.zeros(variance.shape), dscale.info, doffset.info];
});

export const batchNormKernels: tf.KernelConfig[] = [fusedBatchNorm, batchNormGrad];
