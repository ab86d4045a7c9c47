/**
 * Shared plumbing for the native kernels: reading a tensor's Float32Array in place, allocating an
 * output, falling back to the stock `cpu` kernel for cases the native code does not cover, and
 * counting those fallbacks and the addon's failures per kernel (nativeFallbacks()).
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { expect } from '../errors';
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
  readonly batchStats: WeakMap<tf.DataId, BatchStats>;
}

/**
 * A batch mean recorded by the native FusedBatchNorm as the taped batch mean of `x`: its gradient
 * folds the mean and variance paths into dx, so Square's saved input `centered` (x − mean, the
 * variance's) is never read; frugalVariableGrads (src/train/backprop.ts) frees it in the forward pass.
 */
export interface BatchStats { x: tf.DataId; variance: tf.DataId; centered: tf.DataId }

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

/**
 * The Float32Arrays of `named` tensors, in order, for a kernel with no cpu fallback: a tensor that
 * is not float32 is an error naming the kernel and the input (`K expects float32 x, but received "int32".`).
 */
export function float32Arrays(backend: NativeBackendLike, kernel: string, named: Record<string, tf.TensorInfo>): Float32Array[] {
  return Object.entries(named).map(([name, t]) => {
    const values = f32(backend, t);
    expect(values !== null, kernel, `float32 ${name}`, t.dtype);
    return values!;
  });
}

/**
 * The outputs allocated by the native kernel now running (see withFallback), so that they are
 * freed when the addon throws half way; null outside a kernel.
 */
let allocated: tf.TensorInfo[] | null = null;

/** A new float32 output tensor and the array to fill: every element must be written. */
export function output(backend: NativeBackendLike, shape: number[]): { info: tf.TensorInfo; values: Float32Array } {
  const values = backend.allocFloat32(tf.util.sizeFromShape(shape));
  const info = backend.makeTensorInfo(shape, 'float32', values);
  allocated?.push(info);
  return { info, values };
}

/** The stock cpu kernel for `name`, used where the native one does not apply. */
export function cpuKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'cpu');
  if (!config) throw new Error(`tfjs-backend-cpu has no kernel ${name}`);
  return config.kernelFunc;
}

/** The `code` of every error the addon throws (native/src/args.cc) and of a forced failure. */
export const NATIVE_ERROR_CODE = 'SCCONV_NATIVE';

/** How often a native kernel did not run natively, and a few of the inputs it did not run on. */
export interface NativeFallbackCount {
  /** Calls the native kernel declined (dtype, layout or broadcast it does not cover): the cpu kernel ran. */
  fallbacks: number;
  /** Calls where the addon threw (each one an error to the caller, see withFallback). */
  failures: number;
  /** Up to 5 distinct signatures ("Kernel name:dtype[shape] ...") of those calls. */
  examples: string[];
}

const counts = new Map<string, NativeFallbackCount>();

/** Per-kernel counts since the start (or the last resetNativeFallbacks), kernels sorted by name. */
export function nativeFallbacks(): Record<string, NativeFallbackCount> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, { ...v, examples: [...v.examples] }]));
}

export function resetNativeFallbacks(): void {
  counts.clear();
}

function signature(name: string, inputs: tf.NamedTensorInfoMap): string {
  return `${name} ${Object.entries(inputs).map(([k, t]) => `${k}:${t?.dtype}[${t?.shape}]`).join(' ')}`;
}

function record(name: string, what: 'fallbacks' | 'failures', inputs: tf.NamedTensorInfoMap): string {
  const sig = signature(name, inputs);
  const c = counts.get(name) ?? { fallbacks: 0, failures: 0, examples: [] };
  c[what]++;
  if (c.examples.length < 5 && !c.examples.includes(sig)) c.examples.push(sig);
  counts.set(name, c);
  return sig;
}

/** `SCCONV_NATIVE_DEBUG=1` prints each distinct cpu fallback (kernel and input shapes) once. */
const DEBUG = process.env.SCCONV_NATIVE_DEBUG === '1';
const logged = new Set<string>();

/**
 * `SCCONV_NATIVE_FAIL=Conv2D[,BatchMatMul...]`: those native kernels throw as if the addon had
 * failed; `Conv2D:fallback` makes Conv2D decline instead, so the cpu kernel runs silently. For
 * tests: they show that a broken native kernel fails the suite (test/kernels/native_util.test.ts).
 */
const FORCED = new Map((process.env.SCCONV_NATIVE_FAIL ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  .map((s) => [s.replace(/:fallback$/, ''), s.endsWith(':fallback') ? 'fallback' : 'throw'] as const));

/**
 * A kernel config that runs `native(args)` and uses the cpu kernel when it returns null
 * (unsupported dtype, layout or broadcast). Both are counted per kernel (nativeFallbacks()).
 *
 * When the addon throws, the call fails with an error naming the kernel and its inputs; it does
 * not fall back to the cpu kernel. The addon checks every argument and the TypeScript side declines
 * (returns null) every case it knows the addon does not cover, so a throw means a broken contract
 * between the two or a oneDNN failure: a bug. Falling back would hide it, and every result called
 * "native" would silently be cpu's (the kernel tests compare native against cpu, so they passed
 * with a total fallback). Errors that are not the addon's (e.g. incompatible broadcast shapes,
 * which the cpu kernel rejects too) pass through unchanged.
 */
export function withFallback(name: string,
                             native: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null): tf.KernelConfig {
  let fallback: tf.KernelFunc | undefined;
  const forced = FORCED.get(name);
  return {
    kernelName: name,
    backendName: BACKEND_NAME,
    kernelFunc: (args) => {
      const kernelArgs = args as unknown as KernelArgs;
      const outer = allocated;
      allocated = [];
      let out: tf.TensorInfo | tf.TensorInfo[] | null;
      try {
        if (forced === 'throw') {
          throw Object.assign(new Error(`scconv_native: ${name} forced to fail by SCCONV_NATIVE_FAIL.`), { code: NATIVE_ERROR_CODE });
        }
        out = forced === 'fallback' ? null : native(kernelArgs);
      } catch (e) {
        for (const info of allocated) kernelArgs.backend.disposeIntermediateTensorInfo(info);
        if ((e as { code?: string }).code !== NATIVE_ERROR_CODE) throw e;
        const sig = record(name, 'failures', args.inputs);
        throw new Error(`The native kernel ${sig} failed: ${(e as Error).message} This is a bug in the native ` +
          'kernel pack (native/): please report it; SCCONV_BACKEND=cpu avoids the native backend meanwhile.');
      } finally {
        allocated = outer;
      }
      if (out !== null) return out;
      const sig = record(name, 'fallbacks', args.inputs);
      if (DEBUG && !logged.has(sig)) {
        logged.add(sig);
        console.error(`native fallback to cpu: ${sig}`);
      }
      fallback ??= cpuKernel(name);
      return fallback(args);
    },
  };
}
