/**
 * Shared plumbing for the native kernels: reading a tensor's Float32Array in place, allocating an
 * output, and falling back to the stock `cpu` kernel for cases the native code does not cover.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native_addon';
import type { Provenance } from './native_backend';

/** The 'native' backend: tfjs-backend-cpu's tensor storage plus the addon. */
export interface NativeBackendLike extends MathBackendCPU {
  readonly addon: NativeAddon;
  /** A float32 buffer from the backend's pool; its contents are stale, so overwrite every element. */
  allocFloat32(length: number): Float32Array;
  /** A known-zero tensor (shared zero array). */
  zeros(shape: number[]): tf.TensorInfo;
  isZero(t: tf.TensorInfo): boolean;
  readonly provenance: WeakMap<tf.DataId, Provenance>;
  readonly batchStats: WeakMap<tf.DataId, { x: tf.DataId; variance: tf.DataId }>;
}

/** `t` itself as the output of a kernel (shares its data, like Identity), with shape `shape`. */
export function passThrough(backend: NativeBackendLike, t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export type KernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: NativeBackendLike;
  attrs?: tf.NamedAttrMap;
};

export const BACKEND_NAME = 'native';

/** The Float32Array behind a float32 tensor (zero copy), or null when it is not one. */
export function f32(backend: NativeBackendLike, t: tf.TensorInfo | undefined | null): Float32Array | null {
  if (t == null || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** A new float32 output tensor and the array to fill: every element must be written. */
export function output(backend: NativeBackendLike, shape: number[]): { info: tf.TensorInfo; values: Float32Array } {
  const values = backend.allocFloat32(tf.util.sizeFromShape(shape));
  return { info: backend.makeTensorInfo(shape, 'float32', values), values };
}

/** The stock cpu kernel for `name`, used where the native one does not apply. */
export function cpuKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'cpu');
  if (!config) throw new Error(`tfjs-backend-cpu has no kernel ${name}`);
  return config.kernelFunc;
}

/** `SCCONV_NATIVE_DEBUG=1` prints each distinct cpu fallback (kernel and input shapes) once. */
const DEBUG = process.env.SCCONV_NATIVE_DEBUG === '1';
const logged = new Set<string>();
function logFallback(name: string, inputs: tf.NamedTensorInfoMap): void {
  const key = `${name} ${Object.entries(inputs).map(([k, t]) => `${k}:${t?.dtype}[${t?.shape}]`).join(' ')}`;
  if (!logged.has(key)) {
    logged.add(key);
    console.error(`native fallback to cpu: ${key}`);
  }
}

/**
 * A kernel config that runs `native(args)` and uses the cpu kernel when it returns null
 * (unsupported dtype, layout or broadcast) or when the addon throws.
 */
export function withFallback(name: string,
                             native: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null): tf.KernelConfig {
  let fallback: tf.KernelFunc | undefined;
  return {
    kernelName: name,
    backendName: BACKEND_NAME,
    kernelFunc: (args) => {
      const out = native(args as unknown as KernelArgs);
      if (out !== null) return out;
      if (DEBUG) logFallback(name, args.inputs);
      fallback ??= cpuKernel(name);
      return fallback(args);
    },
  };
}
