/**
 * Reaching into a built model for the seed blog's training tips: find the SRU/SCConv layers
 * (also when nested inside composite layers), set the SRU threshold or switch SRU off, and
 * measure the CRU fusion weights β1, β2 (Eq. 6) on a fixed batch. `layerInputs` (a tap model over
 * the network's own graph) is what the per-epoch snapshots (snapshots.ts) build on too.
 */
import * as tf from '@tensorflow/tfjs';
import { SCConv } from '../layers/scconv';

/** Every layer of `model`, depth first, including layers held in fields of composite layers. */
export function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const seen = new Set<tf.layers.Layer>();
  const visit = (layer: tf.layers.Layer) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(nested)) nested.forEach(visit);
    for (const v of Object.values(layer)) if (v instanceof tf.layers.Layer) visit(v);
  };
  model.layers.forEach(visit);
  return [...seen];
}

const isClass = (layer: tf.layers.Layer, ...names: string[]) => names.includes(layer.getClassName());

interface SRULike extends tf.layers.Layer {
  options: { threshold: number };
}

/** SRU switched off: the identity (the seed blog's "SRU disabled for the first N epochs"). */
const identity = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs);

/**
 * Set every SRU's gate threshold (Eq. 3) and whether it runs at all. A disabled SRU passes its
 * input through: this instance's `call` is replaced by the identity (and restored when enabled),
 * which reaches SRUs that an SCConv calls directly. Returns the number of SRUs found.
 */
export function setSRU(model: tf.LayersModel, threshold: number, enabled: boolean): number {
  const srus = allLayers(model).filter((l) => isClass(l, 'SCConvSRU')) as SRULike[];
  for (const sru of srus) {
    sru.options.threshold = threshold;
    if (enabled) delete (sru as Partial<SRULike>).call; // back to the class's call
    else sru.call = identity;
  }
  return srus.length;
}

/**
 * The inputs of `layers` (layers of `model` itself, not nested ones) for the images `x`, from one
 * forward pass of a tap model that outputs them. The caller disposes the tensors.
 */
export function layerInputs(model: tf.LayersModel, layers: tf.layers.Layer[], x: tf.Tensor4D): tf.Tensor4D[] {
  if (layers.length === 0) return [];
  const taps = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
  return [taps.predict(x)].flat() as tf.Tensor4D[];
}

interface BetaSource extends tf.layers.Layer {
  betas(x: tf.Tensor4D): { beta1: tf.Tensor; beta2: tf.Tensor };
}

/** The layers of `model` with CRU fusion weights β: SCConvs with a CRU (the variant 'sru' has none) and CRUs. */
export function betaSources(model: tf.LayersModel): BetaSource[] {
  const hasBetas = (l: tf.layers.Layer) => typeof (l as Partial<BetaSource>).betas === 'function' && !(l instanceof SCConv && !l.cruLayer);
  return model.layers.filter(hasBetas) as BetaSource[];
}

/**
 * Per-channel β1 and β2 (Eq. 6–8) of every layer in `betaSources(model)`, averaged over the images
 * `x` (inference mode): one `[2, C]` tensor per layer, rows β1 and β2. The caller disposes them.
 */
export function betasPerChannel(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D[] {
  const sources = betaSources(model);
  return tf.tidy(() => {
    const inputs = layerInputs(model, sources, x);
    return sources.map((layer, i) => {
      const { beta1, beta2 } = layer.betas(inputs[i]);
      const c = beta1.shape[beta1.rank - 1];
      return tf.stack([beta1.reshape([-1, c]).mean(0), beta2.reshape([-1, c]).mean(0)]) as tf.Tensor2D;
    });
  });
}

/**
 * Mean β1 and β2 of every SCConv in `model` for the images `x` (inference mode), keyed by the
 * layer name: `{ s1b1_conv2: [meanβ1, meanβ2], … }`. Empty for a model without SCConv.
 */
export async function betaMeans(model: tf.LayersModel, x: tf.Tensor4D): Promise<Record<string, [number, number]>> {
  const sources = betaSources(model);
  if (sources.length === 0) return {};
  const perChannel = betasPerChannel(model, x);
  const means = tf.tidy(() => tf.stack(perChannel.map((b) => b.mean(1)))); // (layers, 2)
  tf.dispose(perChannel);
  let values: Float32Array;
  try {
    values = (await means.data()) as Float32Array; // one asynchronous read (webgpu in Node has no sync read)
  } finally {
    means.dispose();
  }
  const out: Record<string, [number, number]> = {};
  sources.forEach((layer, i) => { out[layer.name] = [values[2 * i], values[2 * i + 1]]; });
  return out;
}
