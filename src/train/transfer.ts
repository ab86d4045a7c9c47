/**
 * The seed blog's "train standard convs first, then switch to SCConv and fine-tune".
 *
 * What is transferred at the switch: every layer that exists under the same name with the same
 * weight shapes in both models (the stem conv, each block's first conv under placement 'second',
 * all BatchNorms with their moving statistics, the shortcut projections and the classifier), and
 * their SGD velocities. What starts fresh: the replaced convs (their seeded initial weights) and
 * their velocities (zero). The standard conv2 kernels are dropped: an SCConv has no weight of
 * that shape to receive them.
 */
import * as tf from '@tensorflow/tfjs';
import type { SgdMomentum } from './sgd';

/**
 * Copy weights layer by layer from `from` to `to` (and, given both optimizers, the velocities of
 * the copied trainable weights); returns the names of the layers copied. Layers are matched by
 * name; weights by position within the layer (tfjs may suffix variable names to keep them unique).
 */
export function transferWeights(from: tf.LayersModel, to: tf.LayersModel, fromOpt?: SgdMomentum, toOpt?: SgdMomentum): string[] {
  const copied: string[] = [];
  for (const layer of to.layers) {
    const source = from.layers.find((l) => l.name === layer.name);
    if (!source || source.getClassName() !== layer.getClassName()) continue;
    const a = source.getWeights();
    const b = layer.weights;
    if (a.length === 0 || a.length !== b.length || a.some((w, i) => w.shape.join() !== b[i].shape.join())) continue;
    layer.setWeights(a);
    copied.push(layer.name);
    if (fromOpt && toOpt) {
      const velocity = new Map(fromOpt.params.map((p, i) => [p.variable, fromOpt.velocities[i]]));
      const index = new Map(toOpt.params.map((p, i) => [p.variable, i]));
      layer.trainableWeights.forEach((w, j) => {
        const v = velocity.get(source.trainableWeights[j]?.read() as tf.Variable);
        const i = index.get(w.read() as tf.Variable);
        if (v && i != null) toOpt.velocities[i].assign(v);
      });
    }
  }
  return copied;
}
