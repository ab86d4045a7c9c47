/**
 * Seeded weight initialisation, so that two runs with the same seed start from the same weights
 * (tfjs initialisers draw from Math.random unless each one is given a seed, and the pluggable convs
 * build their own sub-layers, so we re-draw after the model is built).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Re-draw every weight of rank >= 2 (conv and dense kernels) from He-normal, std = sqrt(2 / fan_in)
 * (He et al. 2015, the initialisation the CIFAR ResNet paper uses), with fan_in = product of all
 * dimensions but the last (kh·kw·c_in/groups for a conv kernel, c_in for a dense one). Rank-1 weights
 * (biases, BatchNorm/GroupNorm γ and β, moving statistics) keep their constant initial values.
 * Weight i gets the seed `seed * 1009 + i + 1`, so the draw depends only on (seed, weight order)
 * (never 0: tfjs treats a seed of 0 as "no seed" and draws from Math.random).
 */
export function seedKernels(model: tf.LayersModel, seed: number): void {
  model.weights.forEach((w, i) => {
    if (w.shape.length < 2) return;
    const shape = w.shape as number[];
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const value = tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed * 1009 + i + 1);
    w.write(value);
    value.dispose();
  });
}
