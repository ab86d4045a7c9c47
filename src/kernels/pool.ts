/**
 * k×k block kernels on NHWC: AvgPool whose window equals its stride (OctaveConv's 2×2 pool and
 * its stride-2 entry), nearest-neighbour upsampling by an integer factor (OctaveConv's Y_L → Y_H),
 * and both gradients. Two loops serve all four: a block sum (pool forward, upsampling gradient)
 * and a block spread (upsampling forward, pool gradient). Other pools and resizes go to cpu,
 * whose AvgPoolGrad took 1.4 s of a 2.0 s Octave-ResNet-20 training step at batch 128.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, output, withFallback, type KernelArgs } from './native_util';

/** The block size k when a pool's window equals its stride, is square and needs no padding. */
export function poolBlock(xShape: number[], attrs: tf.NamedAttrMap): number | null {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.AvgPoolAttrs;
  if (xShape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const k = info.filterHeight;
  const { top, left } = info.padInfo;
  const square = info.filterWidth === k && info.strideHeight === k && info.strideWidth === k && top === 0 && left === 0;
  const floorShape = info.outHeight === Math.floor(xShape[1] / k) && info.outWidth === Math.floor(xShape[2] / k);
  return square && floorShape && info.outHeight > 0 && info.outWidth > 0 ? k : null;
}

/** The integer upsampling factor of a nearest resize from `[h, w]` to `size`, or null. */
export function upsampleFactor(shape: number[], attrs: tf.NamedAttrMap): number | null {
  const { alignCorners, size } = attrs as unknown as tf.ResizeNearestNeighborAttrs;
  if (shape.length !== 4 || alignCorners) return null;
  // Without corner alignment both pixel conventions pick source ⌊y/k⌋ for an integer factor k.
  const k = size[0] / shape[1];
  return Number.isInteger(k) && k >= 1 && size[1] === k * shape[2] ? k : null;
}

const avgPool = withFallback(tf.AvgPool, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  const k = poolBlock(x.shape, attrs!);
  if (!xv || k === null) return null;
  const [n, h, w, c] = x.shape;
  const out = output(backend, [n, Math.floor(h / k), Math.floor(w / k), c]);
  backend.addon.blockReduce(xv, out.values, n, h, w, c, k, 1 / (k * k));
  return out.info;
});

const avgPoolGrad = withFallback(tf.AvgPoolGrad, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dy, input } = inputs;
  const dyv = f32(backend, dy);
  const k = poolBlock(input.shape, attrs!);
  if (!dyv || k === null) return null;
  const [n, h, w, c] = dy.shape;
  const out = output(backend, input.shape);
  backend.addon.blockSpread(dyv, out.values, n, h, w, c, k, input.shape[1], input.shape[2], 1 / (k * k));
  return out.info;
});

const resizeNearest = withFallback(tf.ResizeNearestNeighbor, ({ inputs, backend, attrs }: KernelArgs) => {
  const { images } = inputs;
  const xv = f32(backend, images);
  const k = upsampleFactor(images.shape, attrs!);
  if (!xv || k === null) return null;
  const [n, h, w, c] = images.shape;
  const out = output(backend, [n, k * h, k * w, c]);
  backend.addon.blockSpread(xv, out.values, n, h, w, c, k, k * h, k * w, 1);
  return out.info;
});

const resizeNearestGrad = withFallback(tf.ResizeNearestNeighborGrad, ({ inputs, backend, attrs }: KernelArgs) => {
  const { images, dy } = inputs;
  const dyv = f32(backend, dy);
  const k = upsampleFactor(images.shape, { ...attrs, size: [dy.shape[1], dy.shape[2]] });
  if (!dyv || k === null) return null; // k = dy height / image height, checked to match the width
  const [n, h, w, c] = dy.shape;
  const out = output(backend, images.shape);
  backend.addon.blockReduce(dyv, out.values, n, h, w, c, k, 1);
  return out.info;
});

export const poolKernels: tf.KernelConfig[] = [avgPool, avgPoolGrad, resizeNearest, resizeNearestGrad];
