/**
 * Convolutions through oneDNN on NHWC tensors: Conv2D (+ its two gradients), FusedConv2D
 * (bias and activation fused as oneDNN post-ops) and DepthwiseConv2dNative (+ its two gradients,
 * which GhostConv needs and tfjs-backend-wasm lacks), as a grouped convolution.
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from '../util/tape';
import { f32, output, withFallback, type KernelArgs, type NativeBackendLike } from './native_util';

type ConvInfo = tf.backend_util.Conv2DInfo;

/** Modes of the addon's conv(): forward, input gradient, filter gradient. */
const FORWARD = 0, INPUT_GRAD = 1, FILTER_GRAD = 2;

/** Fused activations oneDNN applies as a post-op (0 = none); prelu is not among them. */
const ACTIVATION: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };

/** The 18 geometry numbers the addon's conv() reads, in its order. */
function convParams(info: ConvInfo, depthwise: boolean): Int32Array {
  const p = info.padInfo;
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels,
    info.filterHeight, info.filterWidth, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.bottom, p.left, p.right, depthwise ? info.inChannels : 1,
  ]);
}

function isNHWC(attrs: tf.NamedAttrMap | undefined): boolean {
  const format = attrs?.dataFormat as string | undefined;
  return format == null || format === 'NHWC' || format === 'channelsLast';
}

/** A number per filter tensor (data id), never reused: the addon's key for its reordered copy. */
const weightsIds = new WeakMap<tf.DataId, number>();
let nextWeightsId = 1;

/**
 * The addon's weightsId for a forward conv's `filter`: its own number outside training, so the
 * addon reorders those weights into oneDNN's format once and reuses them (inference runs the same
 * filters call after call); 0 while a gradient tape records (training: the filter changes every
 * step, a kept copy would only cost memory). A data id's contents never change (tfjs tensors are
 * immutable; a weight update makes a new one), so the number names the contents.
 */
export function forwardWeightsId(filter: tf.TensorInfo): number {
  if (recordingGradients()) return 0;
  let id = weightsIds.get(filter.dataId);
  if (id === undefined) {
    id = nextWeightsId++;
    weightsIds.set(filter.dataId, id);
  }
  return id;
}

/**
 * Run one oneDNN conv: `a`, `b` are the two inputs in the addon's order for `mode`; the output has
 * `outShape`. Null when an input is not float32 or a tensor is empty (oneDNN has no empty
 * convolutions): the cpu kernel runs. An addon error is an error (see withFallback).
 */
function runConv(backend: NativeBackendLike, mode: number, a: tf.TensorInfo, b: tf.TensorInfo,
                 outShape: number[], info: ConvInfo, depthwise: boolean,
                 bias: Float32Array | null = null, act = 0, alpha = 0): tf.TensorInfo | null {
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv || av.length === 0 || bv.length === 0 || tf.util.sizeFromShape(outShape) === 0) return null;
  const out = output(backend, outShape);
  backend.addon.conv(mode, av, bv, out.values, convParams(info, depthwise), bias, act, alpha,
    mode === FORWARD ? forwardWeightsId(b) : 0);
  return out.info;
}

const conv2D = withFallback(tf.Conv2D, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  if (!isNHWC(attrs)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode);
  return runConv(backend, FORWARD, x, filter, info.outShape, info, false);
});

const fusedConv2D = withFallback(tf.FusedConv2D, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dilations, dimRoundingMode, activation, leakyreluAlpha } =
    attrs as unknown as tf.FusedConv2DAttrs;
  const act = ACTIVATION[activation];
  if (!isNHWC(attrs) || act === undefined || preluActivationWeights != null) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode);
  let biasValues: Float32Array | null = null;
  if (bias != null) {
    biasValues = f32(backend, bias);
    if (!biasValues || biasValues.length !== info.outChannels) return null;
  }
  return runConv(backend, FORWARD, x, filter, info.outShape, info, false, biasValues, act, leakyreluAlpha ?? 0);
});

const conv2DBackpropInput = withFallback(tf.Conv2DBackpropInput, ({ inputs, backend, attrs }: KernelArgs) => {
  const { dy, filter } = inputs;
  const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (!isNHWC(attrs)) return null;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode);
  return runConv(backend, INPUT_GRAD, dy, filter, [...inputShape], info, false);
});

const conv2DBackpropFilter = withFallback(tf.Conv2DBackpropFilter, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, dy } = inputs;
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (!isNHWC(attrs)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    strides, 1, pad, dimRoundingMode);
  return runConv(backend, FILTER_GRAD, x, dy, [...filterShape], info, false);
});

const depthwiseConv2dNative = withFallback(tf.DepthwiseConv2dNative, ({ inputs, backend, attrs }: KernelArgs) => {
  const { x, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  return runConv(backend, FORWARD, x, filter, info.outShape, info, true);
});

const depthwiseBackpropInput = withFallback(tf.DepthwiseConv2dNativeBackpropInput,
  ({ inputs, backend, attrs }: KernelArgs) => {
    const { dy, filter } = inputs;
    const { strides, dilations, pad, dimRoundingMode, inputShape } =
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
      strides, dilations, pad, dimRoundingMode, true);
    return runConv(backend, INPUT_GRAD, dy, filter, [...inputShape], info, true);
  });

const depthwiseBackpropFilter = withFallback(tf.DepthwiseConv2dNativeBackpropFilter,
  ({ inputs, backend, attrs }: KernelArgs) => {
    const { x, dy } = inputs;
    const { strides, dilations, pad, dimRoundingMode, filterShape } =
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
      strides, dilations, pad, dimRoundingMode, true);
    return runConv(backend, FILTER_GRAD, x, dy, [...filterShape], info, true);
  });

export const convKernels: tf.KernelConfig[] = [
  conv2D, fusedConv2D, conv2DBackpropInput, conv2DBackpropFilter,
  depthwiseConv2dNative, depthwiseBackpropInput, depthwiseBackpropFilter,
];
