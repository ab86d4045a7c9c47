/**
 * Per-channel statistics of feature maps `[N, H, W, C]`, used to relate GroupNorm's γ to how
 * much spatial information a channel carries, and to measure redundancy between channels.
 */
import * as tf from '@tensorflow/tfjs';

import { expect } from '../errors';

/** Per-channel statistics, each of length C. */
export interface ChannelStats {
  /** Mean over batch and positions. */
  mean: number[];
  /** Variance over the H×W positions of each map, averaged over the batch. */
  spatialVariance: number[];
}

function check4d(who: string, x: tf.Tensor): void {
  expect(x.rank === 4, who, 'a rank-4 [N, H, W, C] tensor', `shape [${x.shape.join(', ')}]`);
}

/** Mean and spatial variance of every channel of `x` (`[N, H, W, C]`). */
export function channelStats(x: tf.Tensor4D): ChannelStats {
  check4d('channelStats', x);
  const [mean, spatialVariance] = tf.tidy(() => {
    const { mean: m, variance: v } = tf.moments(x, [1, 2]); // [N, C] each
    return [tf.mean(m, 0), tf.mean(v, 0)];
  });
  const out = { mean: Array.from(mean.dataSync() as Float32Array), spatialVariance: Array.from(spatialVariance.dataSync() as Float32Array) };
  tf.dispose([mean, spatialVariance]);
  return out;
}

/** Pearson correlation between channels over all batch positions, and its mean |off-diagonal|. */
export interface ChannelCorrelation {
  /** C×C correlation matrix; a constant channel correlates 0 with every other. */
  matrix: number[][];
  /** Mean absolute off-diagonal correlation: 0 = channels unrelated, 1 = all copies of one. */
  meanAbs: number;
}

/**
 * Correlation of every channel pair of `x` over its N·H·W positions. A lower `meanAbs` means the
 * channels repeat each other less: the redundancy SCConv sets out to reduce.
 */
export function channelCorrelation(x: tf.Tensor4D): ChannelCorrelation {
  check4d('channelCorrelation', x);
  const c = x.shape[3];
  expect(c >= 2, 'channelCorrelation', 'at least 2 channels', `${c}`);
  const corr = tf.tidy(() => {
    const flat = tf.reshape(x, [-1, c]);
    const centred = tf.sub(flat, tf.mean(flat, 0));
    const cov = tf.matMul(centred, centred, true, false); // [C, C], sums of products
    const sd = tf.sqrt(tf.sum(tf.square(centred), 0)) as tf.Tensor1D; // [C]
    const denom = tf.outerProduct(sd, sd);
    return tf.where(tf.greater(denom, 1e-12), tf.div(cov, tf.maximum(denom, 1e-12)), tf.zerosLike(cov));
  });
  const values = corr.dataSync() as Float32Array;
  corr.dispose();
  const matrix: number[][] = [];
  let sum = 0;
  for (let i = 0; i < c; i++) {
    matrix.push(Array.from(values.subarray(i * c, (i + 1) * c)));
    for (let j = 0; j < c; j++) if (i !== j) sum += Math.abs(values[i * c + j]);
  }
  return { matrix, meanAbs: sum / (c * (c - 1)) };
}

/** Per channel, the fraction of positions (over batch, H, W) where `w > threshold`. */
export function fractionAbove(w: tf.Tensor4D, threshold: number): number[] {
  check4d('fractionAbove', w);
  const frac = tf.tidy(() => tf.mean(tf.cast(tf.greater(w, threshold), 'float32'), [0, 1, 2]));
  const out = Array.from(frac.dataSync() as Float32Array);
  frac.dispose();
  return out;
}

/** One `[H, W]` map of channel `channel` of sample `index` as rows (for heatmaps). */
export function featureMap(x: tf.Tensor4D, index: number, channel: number): number[][] {
  check4d('featureMap', x);
  const [n, h, w, c] = x.shape;
  expect(Number.isInteger(index) && index >= 0 && index < n, 'featureMap', `a sample index in [0, ${n})`, index);
  expect(Number.isInteger(channel) && channel >= 0 && channel < c, 'featureMap', `a channel in [0, ${c})`, channel);
  const map = tf.tidy(() => tf.reshape(tf.slice(x, [index, 0, 0, channel], [1, h, w, 1]), [h, w]));
  const rows = map.arraySync() as number[][];
  map.dispose();
  return rows;
}
