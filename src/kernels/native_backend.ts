/**
 * The 'native' tfjs backend: tfjs-backend-cpu's tensor storage (plain TypedArrays, so the addon
 * works on them in place) with every cpu kernel, and the training hot spots replaced by the
 * native kernel pack (oneDNN convolutions; 2-thread elementwise, reduction and batch-norm loops).
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { batchNormKernels } from './batch_norm';
import { BufferPool } from './buffer_pool';
import { convKernels } from './conv';
import { copyKernels } from './copy';
import { cruFilterGradient, cruFuseGradient, cruKernels, cruSqueezeGradient } from './cru';
import { poolKernels } from './pool';
import { elementwiseKernels, reluGradKernel, sigmoidGradKernel, zerosLikeKernel } from './elementwise';
import { registerNativeGradients } from './gradients';
import { matMulKernels } from './matmul';
import type { NativeAddon } from './native_addon';
import { BACKEND_NAME, type BatchStats } from './native_util';
import { reduceKernels, sumProductKernel } from './reduce';
import { scconvKernels } from './scconv';
import { sgdKernels } from './sgd';
import { sruGradient, sruKernels } from './sru';

export { BACKEND_NAME as NATIVE_BACKEND_NAME };

/** An op of tfjs-core's `moments` and its input data ids (recorded by the native kernels). */
export interface Provenance { op: 'mean' | 'square' | 'sub'; a: tf.DataId; b?: tf.DataId; axes?: number[] }

/**
 * Most bytes of freed buffers kept for reuse: a third of the machine's memory. The pool holds
 * freed buffers of the working set, so a step's next allocations reuse them; a smaller cap (1 GiB
 * was tried) left ResNet-56 at half its expected speed, paying page faults and garbage
 * collections for the rest. `SCCONV_POOL_MB` overrides it.
 */
const POOL_LIMIT_BYTES = Number(process.env.SCCONV_POOL_MB) > 0
  ? Number(process.env.SCCONV_POOL_MB) * 2 ** 20 : Math.floor(os.totalmem() / 3);

/**
 * MathBackendCPU plus the addon handle the native kernels reach through `backend.addon`, and a
 * pool of float32 buffers (see buffer_pool.ts). A buffer is reused only when this backend
 * allocated it and nobody else can see it: not once read out (`dataSync`/`data` return the array
 * itself) and not when a cpu kernel made a view of it.
 */
export class NativeBackend extends MathBackendCPU {
  readonly pool = new BufferPool(POOL_LIMIT_BYTES);
  private readonly owned = new WeakSet<Float32Array>();
  /** One read-only zero array per size, shared by every known-zero tensor of that size. */
  private readonly zeroArrays = new Map<number, Float32Array>();
  private readonly sharedZeros = new WeakSet<Float32Array>();
  /** Data ids whose values are all zero (see `zeros`). */
  readonly knownZero = new WeakSet<tf.DataId>();
  /** How a tensor was computed, for the ops that make up tfjs-core's `moments` (see batch_norm.ts). */
  readonly provenance = new WeakMap<tf.DataId, Provenance>();
  /** Batch-norm means known to be the taped batch mean of an x, with the matching variance. */
  readonly batchStats = new WeakMap<tf.DataId, BatchStats>();

  constructor(readonly addon: NativeAddon) {
    super();
    // MathBackendCPU prints "install tfjs-node" on first use; this backend is the faster path.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A float32 buffer of `length` elements with arbitrary contents (the caller overwrites all). */
  allocFloat32(length: number): Float32Array {
    const reused = this.pool.take(length);
    if (reused) return reused;
    const fresh = new Float32Array(length);
    this.owned.add(fresh);
    return fresh;
  }

  /**
   * A zero tensor that costs nothing: it shares one zero array per size and is marked so the native
   * kernels pass it through (x + 0 = x, x · 0 = 0, Σ0 = 0). Batch-norm gradients produce these for
   * the mean and variance paths they have already folded into dx.
   */
  zeros(shape: number[]): tf.TensorInfo {
    const size = tf.util.sizeFromShape(shape);
    let values = this.zeroArrays.get(size);
    if (!values) {
      values = new Float32Array(size);
      this.zeroArrays.set(size, values);
      this.sharedZeros.add(values);
    }
    const info = this.makeTensorInfo(shape, 'float32', values);
    this.knownZero.add(info.dataId);
    return info;
  }

  isZero(t: tf.TensorInfo): boolean {
    return this.knownZero.has(t.dataId);
  }

  /** Never reuse `values` again (someone outside the backend holds it). */
  escape(values: unknown): void {
    if (values instanceof Float32Array) this.owned.delete(values);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    // Shared zeros must stay zero whatever a caller does with the array.
    if (values instanceof Float32Array && this.sharedZeros.has(values)) return new Float32Array(values.length);
    if (this.data.has(dataId)) this.escape(this.data.get(dataId).values);
    return values;
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && this.owned.has(values) && !this.data.has(dataId)) {
      this.pool.give(values);
    }
    return released;
  }
}

/**
 * A cpu kernel for the native backend. Some cpu kernels return views of an input's array (Slice
 * returns a subarray); such arrays are marked as escaped so the pool never reuses them.
 */
function cpuKernelForNative(k: tf.KernelConfig): tf.KernelConfig {
  const inner = k.kernelFunc;
  return {
    ...k,
    backendName: BACKEND_NAME,
    kernelFunc: (args) => {
      const out = inner(args);
      const backend = args.backend as NativeBackend;
      const outs = Array.isArray(out) ? out : [out];
      for (const o of outs) {
        if (!backend.data.has(o.dataId)) continue;
        const ov = backend.data.get(o.dataId).values as ArrayBufferView | undefined;
        if (!ov || !(ov.buffer instanceof ArrayBuffer)) continue;
        for (const input of Object.values(args.inputs)) {
          if (!input || input.dataId === o.dataId || !backend.data.has(input.dataId)) continue;
          const iv = backend.data.get(input.dataId).values as ArrayBufferView | undefined;
          if (iv && iv.buffer === ov.buffer) {
            backend.escape(iv);
            backend.escape(ov);
          }
        }
      }
      return out;
    },
  };
}

/** The kernels the native pack replaces (everything else is the cpu kernel). */
export const nativeKernels: tf.KernelConfig[] = [
  ...convKernels, ...elementwiseKernels, reluGradKernel, sigmoidGradKernel, zerosLikeKernel, sumProductKernel, ...reduceKernels, ...batchNormKernels, ...copyKernels,
  ...matMulKernels, ...poolKernels, ...sruKernels, ...cruKernels, ...scconvKernels, ...sgdKernels,
];

/**
 * Register the 'native' backend (idempotent): every cpu kernel, the native replacements, and the
 * native gradient overrides. `threads` sets the OpenMP thread count (oneDNN's too).
 */
export function registerNativeBackend(addon: NativeAddon, threads?: number): void {
  if (threads !== undefined) addon.setThreads(threads);
  if (tf.findBackendFactory(BACKEND_NAME) != null) return;
  // Without this every new tensor buffer costs page faults (see tuneMalloc in native/).
  addon.tuneMalloc();
  tf.registerBackend(BACKEND_NAME, () => new NativeBackend(addon), 0);
  const replaced = new Set(nativeKernels.map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!replaced.has(k.kernelName)) tf.registerKernel(cpuKernelForNative(k));
  }
  for (const k of nativeKernels) tf.registerKernel(k);
  registerNativeGradients();
  for (const g of [sruGradient, cruFuseGradient, cruSqueezeGradient, cruFilterGradient]) tf.registerGradient(g);
}
