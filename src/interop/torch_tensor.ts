/**
 * PyTorch tensors as plain data, and the layout changes between PyTorch and tfjs:
 *   conv weight    OIHW (out, in, kh, kw)  ↔  HWIO (kh, kw, in, out)
 *   linear weight  (out, in)               ↔  (in, out)
 *   vectors        (C) both ways (biases, norm affine, running statistics)
 * Activations are NCHW there and NHWC here; only weights cross in a state dict.
 *
 * Format: `{name: {shape, data}}`, `data` flat in PyTorch's row-major order, what
 * `{k: {"shape": list(v.shape), "data": v.flatten().tolist()}}` writes in Python.
 */
import * as tf from '@tensorflow/tfjs';

/** One PyTorch tensor: shape plus flat row-major data; `dtype` 'int64' marks integer buffers. */
export interface TorchTensor {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: 'float32' | 'int64';
}
export type TorchStateDict = Record<string, TorchTensor>;

/** How a weight is laid out in PyTorch relative to tfjs. */
export type TorchLayout = 'conv' | 'linear' | 'vector';

/** tfjs axes → PyTorch axes, per layout (its inverse maps back). */
const TO_TORCH: Record<TorchLayout, number[] | null> = {conv: [3, 2, 0, 1], linear: [1, 0], vector: null};
const FROM_TORCH: Record<TorchLayout, number[] | null> = {conv: [2, 3, 1, 0], linear: [1, 0], vector: null};

/** The PyTorch shape of a tfjs weight of shape `shape`. */
export function torchShape(shape: readonly number[], layout: TorchLayout): number[] {
  const perm = TO_TORCH[layout];
  return perm ? perm.map((axis) => shape[axis]) : [...shape];
}

/** A PyTorch tensor (already checked against `torchShape`) as a tfjs tensor in tfjs layout. */
export function fromTorchTensor(entry: TorchTensor, layout: TorchLayout): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(Array.from(entry.data), entry.shape, 'float32');
    const perm = FROM_TORCH[layout];
    return perm ? tf.transpose(t, perm) : t;
  });
}

/** A tfjs tensor as a PyTorch tensor (plain numbers, so `JSON.stringify` writes a list). */
export function toTorchTensor(value: tf.Tensor, layout: TorchLayout): TorchTensor {
  const perm = TO_TORCH[layout];
  const t = perm ? tf.transpose(value, perm) : value;
  const data = Array.from(t.dataSync());
  if (t !== value) t.dispose();
  return {shape: torchShape(value.shape, layout), data};
}
