/**
 * Reductions over one contiguous block of axes (Sum, Mean, Max, Min: e.g. NHWC over N, H, W for
 * batch statistics and bias gradients, or over H, W for global average pooling) and Tile when it
 * is a broadcast of size-1 axes (what BroadcastTo and tfjs-core's gradients use).
 */
import * as tf from '@tensorflow/tfjs';
import { f32, output, withFallback, type KernelArgs } from './native_util';

/** Reduce op codes of the addon (enum ReduceOp). */
const REDUCE = { sum: 0, mean: 1, max: 2, min: 3 } as const;

/** [outer, mid, inner] sizes when `axes` form one contiguous block of `shape`, else null. */
export function contiguousSplit(shape: number[], axes: number[]): [number, number, number] | null {
  const sorted = [...axes].sort((p, q) => p - q);
  if (sorted.length === 0) return null;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) return null;
  const a = sorted[0], b = sorted[sorted.length - 1] + 1;
  return [tf.util.sizeFromShape(shape.slice(0, a)), tf.util.sizeFromShape(shape.slice(a, b)),
    tf.util.sizeFromShape(shape.slice(b))];
}

function reduceKernel(name: string, op: number, axisAttr: 'axis' | 'reductionIndices') {
  return withFallback(name, ({ inputs, backend, attrs }: KernelArgs) => {
    const x = inputs.x;
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0) return null;
    const axes = tf.util.parseAxisParam(attrs![axisAttr] as number | number[], x.shape);
    const split = contiguousSplit(x.shape, axes);
    if (!split || split[1] === 0) return null;
    let [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    if (attrs!.keepDims) outShape = tf.backend_util.expandShapeToKeepDim(outShape, axes);
    if (backend.isZero(x)) return backend.zeros(outShape);
    const out = output(backend, outShape);
    backend.addon.reduce(op, xv, out.values, ...split);
    if (op === REDUCE.mean) backend.provenance.set(out.info.dataId, { op: 'mean', a: x.dataId, axes });
    return out.info;
  });
}

const tile = withFallback(tf.Tile, ({ inputs, backend, attrs }: KernelArgs) => {
  const x = inputs.x;
  const reps = attrs!.reps as number[];
  const xv = f32(backend, x);
  if (!xv || reps.length !== x.shape.length) return null;
  // A broadcast: every repeated axis has size 1, and the repeated axes are contiguous.
  const repeated = reps.map((r, i) => (r !== 1 ? i : -1)).filter((i) => i >= 0);
  if (repeated.some((i) => x.shape[i] !== 1)) return null;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  if (backend.isZero(x)) return backend.zeros(outShape);
  if (repeated.length === 0) {
    const out = output(backend, outShape);
    out.values.set(xv);
    return out.info;
  }
  const split = contiguousSplit(outShape, repeated);
  if (!split) return null;
  const out = output(backend, outShape);
  backend.addon.broadcast(xv, out.values, ...split);
  return out.info;
});

export const reduceKernels: tf.KernelConfig[] = [
  reduceKernel(tf.Sum, REDUCE.sum, 'axis'),
  reduceKernel(tf.Mean, REDUCE.mean, 'axis'),
  reduceKernel(tf.Max, REDUCE.max, 'reductionIndices'),
  reduceKernel(tf.Min, REDUCE.min, 'axis'),
  tile,
];

/** The name of the fused multiply-and-reduce kernel (gradients.ts: Multiply's broadcast operand). */
export const NATIVE_SUM_PRODUCT = 'NativeSumProduct';

/**
 * NativeSumProduct: inputs {a, b} of one shape, attr `axes` (one contiguous block) →
 * Σ over axes of a·b, with the reduced axes kept as 1.
 */
export const sumProductKernel: tf.KernelConfig = withFallback(NATIVE_SUM_PRODUCT, ({ inputs, backend, attrs }: KernelArgs) => {
  const { a, b } = inputs;
  const axes = attrs!.axes as number[];
  const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  if (backend.isZero(a) || backend.isZero(b)) return backend.zeros(outShape);
  const av = f32(backend, a), bv = f32(backend, b);
  const split = contiguousSplit(a.shape, axes);
  if (!av || !bv || !split) throw new Error(`${NATIVE_SUM_PRODUCT} expects float32 inputs and contiguous axes`);
  const out = output(backend, outShape);
  backend.addon.sumProduct(av, bv, out.values, ...split);
  return out.info;
});
