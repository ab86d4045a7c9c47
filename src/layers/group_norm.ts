/**
 * Group Normalization (Wu & He, ECCV 2018, https://arxiv.org/abs/1803.08494), NHWC.
 *
 * SCConv's SRU uses its per-channel scale γ as a measure of how much information a channel
 * carries (paper Eq. 2: w_γ = γ / Σγ), so the layer exposes γ and w_γ.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { channelsOf, Kwargs, LayerArgs, Shape, singleInput, singleShape, spatialSum } from './layer_utils';

/**
 * Per-sample affine form of GroupNorm: `GN(x) = x · scale + shift` (paper Eq. 1) with `scale`,
 * `shift` of shape `[N, 1, 1, C]`. The statistics come from per-channel sums of x and x² (two
 * batched products, see `spatialSum`) combined per group on the small `[N, C]` tensors; the
 * variance is E[x²] − E[x]² (biased, like PyTorch), clamped at 0. Normalising then costs one
 * multiply and one add of full size, instead of subtract, divide, γ and β.
 */
export function groupNormAffine(
    x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number):
    {scale: tf.Tensor4D, shift: tf.Tensor4D} {
  const [n, h, w, c] = x.shape;
  const count = h * w * (c / groups);
  const perGroup = (t: tf.Tensor4D) => tf.div(tf.sum(tf.reshape(t, [n, groups, c / groups]), 2, true), count);
  const mean = perGroup(spatialSum(x));  // [N, G, 1]
  const meanSq = perGroup(spatialSum(tf.square(x)));
  const variance = tf.relu(tf.sub(meanSq, tf.square(mean)));
  const scale = tf.mul(tf.rsqrt(tf.add(variance, epsilon)), tf.reshape(gamma, [groups, c / groups]));  // [N, G, C/G]
  const shift = tf.sub(tf.reshape(beta, [groups, c / groups]), tf.mul(mean, scale));
  return {scale: tf.reshape(scale, [n, 1, 1, c]), shift: tf.reshape(shift, [n, 1, 1, c])};
}

/** Group normalisation of an NHWC tensor with per-channel γ, β (paper Eq. 1). */
export function groupNorm(
    x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor4D {
  return tf.tidy(() => {
    const {scale, shift} = groupNormAffine(x, groups, gamma, beta, epsilon);
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  });
}

/** w_γ = γ / Σγ (paper Eq. 2): each channel's share of the total GN scale. */
export function normalizedGamma(gamma: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(gamma, tf.sum(gamma)));
}

/** Check that `groups` divides `channels` (GroupNorm and SRU share this check). */
export function checkGroups(who: string, groups: number, channels: number): void {
  const divisors = Array.from({length: Math.min(channels, 32)}, (_, i) => i + 1).filter((d) => channels % d === 0);
  expect(channels % groups === 0, who,
    `the channel count to be divisible by groupNum=${groups} (use a groupNum that divides ` +
    `${channels}: ${divisors.join(', ')})`, `${channels} channels`);
}

export declare interface GroupNormLayerArgs extends LayerArgs {
  /** Number of channel groups G; must divide the channel count. Defaults to 4. */
  groups?: number;
  /** Small constant added to the variance. Defaults to 1e-5 (PyTorch's default). */
  epsilon?: number;
}

/**
 * GroupNorm layer: `[N, H, W, C] → [N, H, W, C]`, statistics per sample over each group of
 * C/G channels and all pixels, then per-channel γ (init 1) and β (init 0).
 */
export class GroupNorm extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvGroupNorm';
  readonly groups: number;
  readonly epsilon: number;
  gammaWeight?: tf.LayerVariable;
  betaWeight?: tf.LayerVariable;

  constructor(args: GroupNormLayerArgs = {}) {
    super(args);
    this.groups = args.groups == null ? 4 : args.groups;
    this.epsilon = args.epsilon == null ? 1e-5 : args.epsilon;
    GroupNorm.verifyArgs(this.groups, this.epsilon);
  }

  protected static verifyArgs(groups: number, epsilon: number): void {
    expect(Number.isInteger(groups) && groups > 0, 'GroupNorm', 'groups to be a positive integer', groups);
    expect(epsilon > 0, 'GroupNorm', 'epsilon > 0', epsilon);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = channelsOf(singleShape(inputShape), 'GroupNorm');
    checkGroups('GroupNorm', this.groups, c);
    this.gammaWeight = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.betaWeight = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => groupNorm(singleInput(inputs), this.groups, this.gammaWeight!.read(),
      this.betaWeight!.read(), this.epsilon));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  /** γ, the per-channel scale (a copy; the caller disposes it). */
  gamma(): tf.Tensor1D {
    return this.gammaWeight!.read().clone() as tf.Tensor1D;
  }

  /** w_γ = γ / Σγ (paper Eq. 2). */
  normalizedGamma(): tf.Tensor1D {
    return normalizedGamma(this.gammaWeight!.read()) as tf.Tensor1D;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {groups: this.groups, epsilon: this.epsilon};
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(GroupNorm);
