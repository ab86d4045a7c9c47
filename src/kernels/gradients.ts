/**
 * Gradients that cost fewer full-size passes on the native backend. tfjs keeps one gradient per
 * kernel name for all backends, so each override here runs the fast form only while the native
 * backend is active and otherwise calls the stock gradient unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { NATIVE_BATCH_NORM_GRAD, perChannel } from './batch_norm';
import { contiguousSplit, NATIVE_SUM_PRODUCT } from './reduce';
import { BACKEND_NAME, type NativeBackendLike } from './native_util';

/** The name of the fused ReLU-gradient kernel: dx = x > 0 ? dy : 0 in one pass. */
export const NATIVE_RELU_GRAD = 'NativeReluGrad';
/** The name of the fused sigmoid-gradient kernel: dx = dy·y·(1 − y) in one pass. */
export const NATIVE_SIGMOID_GRAD = 'NativeSigmoidGrad';

type GradFunc = tf.GradConfig['gradFunc'];

/** Whether this file's gradient for `kernelName` is already registered (registration is global). */
function installed(kernelName: string): boolean {
  return (tf.getGradient(kernelName) as { native?: boolean } | undefined)?.native === true;
}

function override(kernelName: string, fast: (stock: GradFunc) => GradFunc): void {
  const stock = tf.getGradient(kernelName);
  if (!stock || installed(kernelName)) return;
  const fastFunc = fast(stock.gradFunc);
  const config: tf.GradConfig & { native: boolean } = {
    ...stock,
    native: true,
    gradFunc: (dy, saved, attrs) =>
      tf.getBackend() === BACKEND_NAME ? fastFunc(dy, saved, attrs) : stock.gradFunc(dy, saved, attrs),
  };
  tf.registerGradient(config);
}

/** Install the overrides (idempotent). */
export function registerNativeGradients(): void {
  // FusedBatchNorm: all five gradients from one two-pass kernel.
  override(tf.FusedBatchNorm, (stock) => (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const c = x.shape[x.shape.length - 1];
    if (Array.isArray(dy) || x.dtype !== 'float32' || ![mean, variance, scale].every((t) => perChannel(t, c))) {
      return stock(dy, saved, attrs);
    }
    const inputs: tf.NamedTensorMap = { dy, x, mean, variance };
    if (scale) inputs.scale = scale;
    const [dx, dmean, dvariance, dscale, doffset] = tf.engine().runKernel(NATIVE_BATCH_NORM_GRAD, inputs,
      { varianceEpsilon: (attrs as { varianceEpsilon: number }).varianceEpsilon }) as tf.Tensor[];
    return { x: () => dx, mean: () => dmean, variance: () => dvariance, scale: () => dscale,
      offset: () => doffset };
  });

  // Relu: saves its output y instead of its input x (tfjs-core's choice). y > 0 exactly where x > 0,
  // so the mask, and the gradient, are the same; but y is the next layer's input, which that layer
  // saves anyway, while x (a batch norm's output) was kept for Relu alone: one activation-sized
  // tensor per ReLU less in the forward pass. On native, dy masked in one pass (stock: Step, Mul).
  if (!installed(tf.Relu)) {
    tf.registerGradient({
      kernelName: tf.Relu, inputsToSave: [], outputsToSave: [true], native: true,
      gradFunc: (dy, saved) => {
        const [y] = saved;
        return { x: () => (tf.getBackend() === BACKEND_NAME
          ? tf.engine().runKernel(NATIVE_RELU_GRAD, { dy: dy as tf.Tensor, x: y }) as tf.Tensor
          : tf.mul(dy as tf.Tensor, tf.step(y))) };
      },
    } as tf.GradConfig);
  }

  // Square: a known-zero dy (a variance path folded into the batch-norm dx) gives a zero gradient
  // without the stock gradient's full-size 2·x. frugalVariableGrads (train/backprop.ts) frees the
  // saved x of exactly these nodes in the forward pass, leaving a shape record.
  override(tf.Square, (stock) => (dy, saved, attrs) => {
    const backend = tf.backend() as unknown as NativeBackendLike;
    if (!Array.isArray(dy) && backend.isZero(dy)) return { x: () => tf.clone(dy) };
    if (!(saved[0] instanceof tf.Tensor)) {
      throw new Error('Square gradient: its saved input was released as a folded batch-norm variance (train/backprop.ts), ' +
        'but its dy is not the known zero the native batch-norm gradient hands it; this is a bug, please report it.');
    }
    return stock(dy, saved, attrs);
  });

  // Multiply: the gradient of an operand that was broadcast is Σ dy·other over the broadcast axes,
  // in one pass when those axes are one contiguous block (stock: a full-size product, then a sum).
  override(tf.Multiply, (stock) => (dy, saved, attrs) => {
    const [a, b] = saved;
    const d = dy as tf.Tensor;
    if (Array.isArray(dy) || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(dy, saved, attrs);
    const side = (self: tf.Tensor, other: tf.Tensor) => () => {
      const axes = tf.backend_util.getReductionAxes(self.shape, d.shape);
      if (axes.length === 0) return tf.mul(d, other);
      if (tf.util.arraysEqual(other.shape, d.shape) && contiguousSplit(d.shape, axes) !== null) {
        const summed = tf.engine().runKernel(NATIVE_SUM_PRODUCT, { a: d, b: other }, { axes }) as tf.Tensor;
        return tf.reshape(summed, self.shape);
      }
      return tf.reshape(tf.sum(tf.mul(d, other), axes), self.shape);
    };
    return { a: side(a, b), b: side(b, a) };
  });

  // Sigmoid: dy·y·(1 − y) in one pass (stock: three full-size ops).
  override(tf.Sigmoid, () => (dy, saved) => {
    const [y] = saved;
    return { x: () => tf.engine().runKernel(NATIVE_SIGMOID_GRAD, { dy: dy as tf.Tensor, y }) as tf.Tensor };
  });

  // Mean: broadcast dy / n (stock: ones of x's size, a broadcast Mul, then a Div).
  override(tf.Mean, () => (dy, saved, attrs) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const n = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return { x: () => tf.broadcastTo(tf.reshape(tf.div(dy as tf.Tensor, n), kept), x.shape) };
  });
}
