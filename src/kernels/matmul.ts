/**
 * BatchMatMul through oneDNN's matmul (SCConv's CRU runs its 1×1 convolutions as matrix products).
 * Batch dimensions must be equal or one of them 1, and no size 0; anything else goes to cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, output, withFallback, type KernelArgs } from './native_util';

const batchMatMul = withFallback(tf.BatchMatMul, ({ inputs, backend, attrs }: KernelArgs) => {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length, rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2)), batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1) || m * n * k * batchA * batchB === 0) return null;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = output(backend, [...outer, m, n]);
  backend.addon.matMul(av, bv, out.values, batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0);
  return out.info;
});

export const matMulKernels: tf.KernelConfig[] = [batchMatMul];
