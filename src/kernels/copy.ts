/**
 * Data movement on NHWC tensors as plain row copies: Concat and SplitV along any axis (SCConv's
 * channel splits, their gradients), and Slice. The cpu Slice returns views of its input; these
 * copy, which keeps every output's buffer its own.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, output, withFallback, type KernelArgs } from './native_util';

const concat = withFallback(tf.Concat, ({ inputs, backend, attrs }: KernelArgs) => {
  const xs = (Object.values(inputs) as tf.TensorInfo[]).filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (xs.length === 0) return null;
  const values = xs.map((t) => f32(backend, t));
  if (values.some((v) => !v)) return null;
  const axis = tf.util.parseAxisParam(attrs!.axis as number, xs[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(xs.map((t) => t.shape), axis);
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const total = tf.util.sizeFromShape(outShape.slice(axis));
  const out = output(backend, outShape);
  let offset = 0;
  xs.forEach((t, i) => {
    const width = tf.util.sizeFromShape(t.shape.slice(axis));
    backend.addon.copyRows(values[i]!, out.values, outer, width, width, 0, total, offset);
    offset += width;
  });
  return out.info;
});

const splitV = withFallback(tf.SplitV, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!xv) return null;
  const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs!.numOrSizeSplits as number | number[], axis);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  const total = x.shape[axis] * inner;
  let offset = 0;
  return sizes.map((size) => {
    const shape = x.shape.slice();
    shape[axis] = size;
    const out = output(backend, shape);
    if (out.values.length > 0) backend.addon.copyRows(xv, out.values, outer, size * inner, total, offset * inner, size * inner, 0);
    offset += size;
    return out.info;
  });
});

const slice = withFallback(tf.Slice, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!xv) return null;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]);
  if (tf.util.sizeFromShape(size) === 0) return null;
  const out = output(backend, size);
  backend.addon.slice(xv, out.values, Int32Array.from(x.shape), Int32Array.from(begin), Int32Array.from(size));
  return out.info;
});

export const copyKernels: tf.KernelConfig[] = [concat, splitV, slice];
