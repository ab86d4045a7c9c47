/**
 * Model complexity in the convention of the SCConv paper's tables.
 *
 * - Params: trainable weights, as PyTorch's `sum(p.numel() for p in model.parameters())`
 *   (BatchNorm's γ, β count; its moving mean/variance, like PyTorch buffers, do not).
 * - FLOPs: multiply-accumulates (MACs) of convolution and dense layers for ONE image, the
 *   convention of the paper's FLOPs column (ResNet-56 on CIFAR ≈ 125M). Normalisation,
 *   activations, pooling, additions and attention softmaxes are not counted.
 *
 * The counter walks the layer graph (nested models included) propagating shapes, so it works for
 * fully convolutional models with unknown input size. Custom layers report their own MACs via a
 * `macs(inputShape)` method (this library's SCConv, CRU, GroupedConv2D, GhostConv, OctaveConv).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';

type Shape = (number | null)[];

/** A layer that knows its multiply-accumulates for one image of the given (batched) input shape. */
export interface CountsMacs {
  macs(inputShape: Shape): number;
}

/** Trainable parameter count (PyTorch's `parameters()` convention). */
export function countParams(model: tf.layers.Layer): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

const product = (xs: Shape): number => xs.reduce((a: number, b) => a * (b as number), 1);
const asPair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** MACs of one standard tfjs layer, from its config and shapes (0 for layers without MACs). */
function builtinMacs(layer: tf.layers.Layer, input: Shape, output: Shape): number {
  const cfg = layer.getConfig();
  const spatialOut = product(output.slice(1, -1));
  const cin = input[input.length - 1] as number;
  switch (layer.getClassName()) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
      return spatialOut * product(asPair(cfg.kernelSize)) * cin * (cfg.filters as number);
    case 'DepthwiseConv2D':
      return spatialOut * product(asPair(cfg.kernelSize)) * cin * ((cfg.depthMultiplier as number) ?? 1);
    case 'SeparableConv2D': {
      const mid = cin * ((cfg.depthMultiplier as number) ?? 1);
      return spatialOut * (product(asPair(cfg.kernelSize)) * mid + mid * (cfg.filters as number));
    }
    case 'Conv2DTranspose':
      return product(input.slice(1, -1)) * product(asPair(cfg.kernelSize)) * cin * (cfg.filters as number);
    case 'Dense':
      return product(input.slice(1, -1)) * cin * (cfg.units as number);
    default:
      return 0;
  }
}

/** MACs of one layer applied to `inputs`; returns them with the output shapes. */
function layerMacs(layer: tf.layers.Layer, inputs: Shape[]): {macs: number, outputs: Shape[]} {
  if (layer instanceof tf.LayersModel) return walk(layer, inputs);
  const out = layer.computeOutputShape(inputs.length === 1 ? inputs[0] : inputs) as Shape | Shape[];
  const outputs = Array.isArray(out[0]) ? out as Shape[] : [out as Shape];
  const custom = (layer as unknown as Partial<CountsMacs>).macs;
  const macs = typeof custom === 'function' ? custom.call(layer, inputs[0]) : builtinMacs(layer, inputs[0], outputs[0]);
  return {macs, outputs};
}

/** Walk a model's graph in topological order, propagating shapes and summing MACs. */
function walk(model: tf.LayersModel, inputs: Shape[]): {macs: number, outputs: Shape[]} {
  if (model instanceof tf.Sequential) {  // a chain; its graph is only wired up when first run
    return model.layers.reduce((acc, layer) => {
      const r = layerMacs(layer, acc.outputs);
      return {macs: acc.macs + r.macs, outputs: r.outputs};
    }, {macs: 0, outputs: inputs});
  }
  const shapes = new Map<string, Shape>();  // `${layer.name}:${nodeIndex}:${tensorIndex}` → shape
  const key = (l: tf.layers.Layer, node: number, tensor: number) => `${l.name}:${node}:${tensor}`;
  model.inputLayers.forEach((l, i) => shapes.set(key(l, 0, 0), inputs[i]));
  let macs = 0;
  for (const layer of model.layers) {
    if (model.inputLayers.includes(layer)) continue;
    layer.inboundNodes.forEach((node, nodeIndex) => {
      const ins = node.inboundLayers.map((l, i) => shapes.get(key(l, node.nodeIndices[i], node.tensorIndices[i])));
      if (ins.length === 0 || ins.some((s) => s === undefined)) return;  // a node of another graph
      const r = layerMacs(layer, ins as Shape[]);
      macs += r.macs;
      r.outputs.forEach((s, t) => shapes.set(key(layer, nodeIndex, t), s));
    });
  }
  const outputs = model.outputLayers.map((l, i) =>
    shapes.get(key(l, model.outputLayersNodeIndices[i], model.outputLayersTensorIndices[i])) as Shape);
  return {macs, outputs};
}

/**
 * Multiply-accumulates of conv and dense layers for one input of `inputShape` (without the batch
 * axis, e.g. `[32, 32, 3]`), the paper's "FLOPs".
 */
export function countFlops(model: tf.LayersModel, inputShape: number[]): number {
  const first = model instanceof tf.Sequential ? model.layers[0]?.batchInputShape : model.inputs[0]?.shape;
  const want = first == null ? inputShape.length : first.length - 1;
  expect(Array.isArray(inputShape) && inputShape.length === want && inputShape.every((d) => Number.isInteger(d) && d > 0),
    'countFlops', `inputShape to be ${want} positive integers without the batch axis (e.g. [32, 32, 3])`, inputShape);
  return walk(model, [[1, ...inputShape]]).macs;
}
