/**
 * Elementwise kernels on 2 threads: binary ops with the broadcasts a NHWC network uses (same
 * shape, per-channel vector, per-example-and-channel, per-pixel, scalar), unary ops and AddN.
 * Anything else (other dtypes, broadcasts that need more than three axis blocks) goes to cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, output, passThrough, withFallback, type KernelArgs } from './native_util';

/** Binary op codes of the addon (native/src/elementwise.cc, enum BinaryOp). */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, squaredDiff: 6, reluGrad: 7, sigmoidGrad: 8 } as const;

/**
 * How an operand of shape `shape` (right-aligned against `out`) is read when `out` is split into
 * three blocks of axes [0, k1), [k1, k2), [k2, rank): within each block it must be either whole
 * or all ones (broadcast). Returns the operand's stride for each block index, or null.
 */
function blockStrides(shape: number[], out: number[], cuts: [number, number]): [number, number, number] | null {
  const padded = new Array(out.length - shape.length).fill(1).concat(shape);
  const bounds = [0, cuts[0], cuts[1], out.length];
  const sizes: number[] = [];
  for (let j = 0; j < 3; j++) {
    let full = true, one = true;
    for (let i = bounds[j]; i < bounds[j + 1]; i++) {
      if (padded[i] !== out[i]) full = false;
      if (padded[i] !== 1) one = false;
    }
    if (!full && !one) return null;
    sizes.push(full ? tf.util.sizeFromShape(out.slice(bounds[j], bounds[j + 1])) : 0);
  }
  // Stride of a block = product of the operand's own sizes of the blocks inside it (0 if broadcast).
  const own = sizes.map((z) => Math.max(z, 1));
  return [sizes[0] ? own[1] * own[2] : 0, sizes[1] ? own[2] : 0, sizes[2] ? 1 : 0];
}

/** Block sizes and operand strides for a broadcast (largest innermost block first), or null. */
export function broadcastPlan(a: number[], b: number[], out: number[]):
  { dims: [number, number, number]; as: [number, number, number]; bs: [number, number, number] } | null {
  for (let k2 = 0; k2 <= out.length; k2++) {
    for (let k1 = 0; k1 <= k2; k1++) {
      const as = blockStrides(a, out, [k1, k2]), bs = blockStrides(b, out, [k1, k2]);
      if (as && bs) {
        const size = (from: number, to: number) => tf.util.sizeFromShape(out.slice(from, to));
        return { dims: [size(0, k1), size(k1, k2), size(k2, out.length)], as, bs };
      }
    }
  }
  return null;
}

/** Whether `mean` was computed by the native Mean of `x` (the first half of tfjs-core's moments). */
function isMeanOf(backend: KernelArgs['backend'], mean: tf.TensorInfo, x: tf.TensorInfo): boolean {
  const p = backend.provenance.get(mean.dataId);
  return p?.op === 'mean' && p.a === x.dataId;
}

/** Run binary op `op` natively on float32 a, b (or null for the cpu fallback). */
export function binary(args: KernelArgs, op: number, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | null {
  const { backend } = args;
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  // Known zeros (batch-norm gradient paths already folded into dx) cost nothing.
  const aZero = backend.isZero(a), bZero = backend.isZero(b);
  if (aZero || bZero) {
    const same = (t: tf.TensorInfo) => tf.util.arraysEqual(t.shape, outShape);
    if (aZero && (op === BINARY.mul || op === BINARY.div || op === BINARY.reluGrad || op === BINARY.sigmoidGrad)) {
      return backend.zeros(outShape);
    }
    if (bZero && op === BINARY.mul) return backend.zeros(outShape);
    if ((op === BINARY.add || op === BINARY.sub) && bZero && same(a)) return passThrough(backend, a, outShape);
    if (op === BINARY.add && aZero && same(b)) return passThrough(backend, b, outShape);
  }
  const plan = broadcastPlan(a.shape, b.shape, outShape);
  if (!plan) return null;
  const out = output(backend, outShape);
  backend.addon.binary(op, av, bv, out.values, ...plan.dims, ...plan.as, ...plan.bs);
  // Only moments' x − mean(x) is recorded (see batch_norm.ts). Recording every Sub chained each
  // weight to its value of the step before (SGD's w ← w − lr·v; the variable keeps the Sub's data
  // id), a chain of WeakMap entries as long as the run that every garbage collection walked: the
  // collector's ephemeron marking grew step after step and training slowed down (probe_long_run.ts).
  if (op === BINARY.sub && isMeanOf(backend, b, a)) backend.provenance.set(out.info.dataId, { op: 'sub', a: a.dataId, b: b.dataId });
  return out.info;
}

const binaryKernel = (name: string, op: number) =>
  withFallback(name, (args) => binary(args, op, args.inputs.a, args.inputs.b));

/** Unary op codes of the addon (enum UnaryOp). */
const UNARY = {
  relu: 0, relu6: 1, step: 2, neg: 3, square: 4, sqrt: 5, rsqrt: 6, exp: 7, log: 8, sigmoid: 9, tanh: 10,
  abs: 11, scale: 12, leakyRelu: 13, elu: 14,
} as const;

const unaryKernel = (name: string, op: number, alpha: (attrs?: tf.NamedAttrMap) => number = () => 0) =>
  withFallback(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const xv = f32(backend, x);
    if (!xv) return null;
    if (backend.isZero(x) && (op === UNARY.neg || op === UNARY.square)) return backend.zeros(x.shape);
    const out = output(backend, x.shape);
    backend.addon.unary(op, xv, out.values, alpha(attrs));
    if (op === UNARY.square && backend.provenance.get(x.dataId)?.op === 'sub') backend.provenance.set(out.info.dataId, { op: 'square', a: x.dataId });
    return out.info;
  });

const addN = withFallback(tf.AddN, ({ inputs, backend }) => {
  const tensors = Object.values(inputs) as tf.TensorInfo[];
  const arrays = tensors.map((t) => f32(backend, t));
  if (tensors.length > 15 || arrays.some((v) => !v)) return null;
  if (tensors.some((t) => !tf.util.arraysEqual(t.shape, tensors[0].shape))) return null;
  const out = output(backend, tensors[0].shape);
  backend.addon.addN(out.values, ...(arrays as Float32Array[]));
  return out.info;
});

export const elementwiseKernels: tf.KernelConfig[] = [
  binaryKernel(tf.Add, BINARY.add),
  binaryKernel(tf.Sub, BINARY.sub),
  binaryKernel(tf.Multiply, BINARY.mul),
  binaryKernel(tf.RealDiv, BINARY.div),
  binaryKernel(tf.Maximum, BINARY.max),
  binaryKernel(tf.Minimum, BINARY.min),
  binaryKernel(tf.SquaredDifference, BINARY.squaredDiff),
  unaryKernel(tf.Relu, UNARY.relu),
  unaryKernel(tf.Relu6, UNARY.relu6),
  unaryKernel(tf.Step, UNARY.step, (attrs) => (attrs?.alpha as number | undefined) ?? 0),
  unaryKernel(tf.Neg, UNARY.neg),
  unaryKernel(tf.Square, UNARY.square),
  unaryKernel(tf.Sqrt, UNARY.sqrt),
  unaryKernel(tf.Rsqrt, UNARY.rsqrt),
  unaryKernel(tf.Exp, UNARY.exp),
  unaryKernel(tf.Log, UNARY.log),
  unaryKernel(tf.Sigmoid, UNARY.sigmoid),
  unaryKernel(tf.Tanh, UNARY.tanh),
  unaryKernel(tf.Abs, UNARY.abs),
  unaryKernel(tf.LeakyRelu, UNARY.leakyRelu, (attrs) => (attrs?.alpha as number | undefined) ?? 0.2),
  unaryKernel(tf.Elu, UNARY.elu),
  addN,
];

/** NativeReluGrad (gradients.ts): inputs {dy, x} → x > 0 ? dy : 0. */
export const reluGradKernel: tf.KernelConfig = withFallback('NativeReluGrad', (args) => {
  const out = binary(args, BINARY.reluGrad, args.inputs.dy, args.inputs.x);
  if (!out) throw new Error('NativeReluGrad expects float32 dy and x of one shape');
  return out;
});

/** NativeSigmoidGrad (gradients.ts): inputs {dy, y} (y = sigmoid(x)) → dy·y·(1 − y) in one pass. */
export const sigmoidGradKernel: tf.KernelConfig = withFallback('NativeSigmoidGrad', (args) => {
  const out = binary(args, BINARY.sigmoidGrad, args.inputs.dy, args.inputs.y);
  if (!out) throw new Error('NativeSigmoidGrad expects float32 dy and y of one shape');
  return out;
});

/** ZerosLike as a known zero (shared zeros: no allocation, and the native kernels skip it). */
export const zerosLikeKernel: tf.KernelConfig = withFallback(tf.ZerosLike, ({ inputs, backend }) =>
  inputs.x.dtype === 'float32' ? backend.zeros(inputs.x.shape) : null);
