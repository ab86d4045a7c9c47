/**
 * Spatial Reconstruction Unit (SRU) of SCConv (Li, Wen & He, CVPR 2023), paper Eq. 1–4.
 *
 * GroupNorm's γ measures how much spatial information each channel carries; a sigmoid of the
 * γ-weighted normalised map gives an importance map w, split by a threshold t into an
 * informative gate W1 and a redundant gate W2. The two gated copies of x are added back
 * crosswise (first half of one with the second half of the other) to reduce redundancy.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { checkGroups, groupNormAffine, normalizedGamma } from './group_norm';
import { channelsOf, Kwargs, LayerArgs, Shape, singleInput, singleShape } from './layer_utils';

/** Gate variants: 'soft' = paper sentence read literally, 'hard' = binary masks. */
export type SRUGate = 'soft' | 'hard';
export const SRU_GATES: readonly SRUGate[] = ['soft', 'hard'];

/** Weights of an SRU: the GroupNorm's γ and β, each `[C]`. */
export interface SRUWeights {
  gamma: tf.Tensor;
  beta: tf.Tensor;
}

/** Options of the SRU maths (resolved, validated). */
export interface SRUOptions {
  groupNum: number;
  threshold: number;
  gate: SRUGate;
  epsilon: number;
}

/**
 * Importance map and gates: w = sigmoid(GN(x) · w_γ) (Eq. 1–3, w_γ = γ/Σγ of Eq. 2 folded into
 * GN's scale and shift); W1, W2 from the threshold t (Eq. 3):
 *   soft: W1 = where(w > t, 1, w), W2 = where(w > t, 0, w)
 *   hard: W1 = [w > t],            W2 = [w ≤ t]
 * The mask [w > t] is `step(w − t)`, whose gradient is zero, so gradients flow only through w.
 */
export function sruGates(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions):
    {w: tf.Tensor4D, W1: tf.Tensor4D, W2: tf.Tensor4D} {
  return tf.tidy(() => {
    const {scale, shift} = groupNormAffine(x, opts.groupNum, weights.gamma, weights.beta, opts.epsilon);
    const wGamma = normalizedGamma(weights.gamma);  // Eq. 2, folded into GN's [N, 1, 1, C] scale and shift
    const w = tf.sigmoid(tf.add(tf.mul(x, tf.mul(scale, wGamma)), tf.mul(shift, wGamma))) as tf.Tensor4D;
    const m = tf.step(tf.sub(w, opts.threshold));  // [w > t]
    const W2 = (opts.gate === 'soft' ? tf.sub(w, tf.mul(w, m)) : tf.sub(1, m)) as tf.Tensor4D;
    const W1 = (opts.gate === 'soft' ? tf.add(W2, m) : m) as tf.Tensor4D;
    return {w, W1, W2};
  });
}

/**
 * Swap the two channel halves: `[a, b] → [b, a]` along the last axis, as a product with a C×C
 * permutation matrix. On the tfjs cpu backend that is ~8× faster than `tf.reverse` on a
 * `[N, H, W, 2, C/2]` view or slice + concat (measured at 32×32×32×16), backward included.
 */
export function swapHalves(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const perm = new Float32Array(c * c);
  for (let i = 0; i < c; i++) perm[((i + c / 2) % c) * c + i] = 1;  // output i reads input (i + C/2) mod C
  return tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, c]), tf.tensor2d(perm, [c, c])), x.shape) as tf.Tensor4D;
}

/**
 * SRU forward: X1 = W1 ⊙ X, X2 = W2 ⊙ X, then the cross reconstruction (Eq. 4)
 * `[X1_a + X2_b, X1_b + X2_a]` where `_a`, `_b` are the first and second channel halves.
 */
export function sru(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const {W1, W2} = sruGates(x, weights, opts);
    return tf.add(tf.mul(W1, x), swapHalves(tf.mul(W2, x) as tf.Tensor4D)) as tf.Tensor4D;
  });
}

/** Validate SRU options that do not depend on the channel count. */
export function verifySRUOptions(who: string, o: SRUOptions): void {
  expect(Number.isInteger(o.groupNum) && o.groupNum > 0, who, 'groupNum to be a positive integer', o.groupNum);
  expect(typeof o.threshold === 'number' && o.threshold > 0 && o.threshold < 1, who,
    'threshold in (0, 1) (the gate compares the sigmoid map w with it; 0.5 is the paper\'s value)', o.threshold);
  expect((SRU_GATES as readonly string[]).includes(o.gate), who, `gate to be one of ${SRU_GATES.map((g) => `'${g}'`).join(', ')}`, o.gate);
  expect(typeof o.epsilon === 'number' && o.epsilon > 0, who, 'epsilon > 0', o.epsilon);
}

/** Validate the channel count for an SRU: even (two halves) and divisible by groupNum. */
export function verifySRUChannels(who: string, channels: number, groupNum: number): void {
  expect(channels % 2 === 0, who, 'an even channel count (the reconstruction swaps two equal halves)',
    `${channels} channels`);
  checkGroups(who, groupNum, channels);
}

export declare interface SRULayerArgs extends LayerArgs {
  /** GroupNorm groups; must divide the channel count. Defaults to 4. */
  groupNum?: number;
  /** Gate threshold t in (0, 1). Defaults to 0.5. */
  threshold?: number;
  /** 'soft' (W1 = where(w>t, 1, w)) or 'hard' (W1 = [w>t]). Defaults to 'soft'. */
  gate?: SRUGate;
  /** GroupNorm epsilon. Defaults to 1e-5. */
  epsilon?: number;
}

/** Resolve SRU defaults. */
export function sruOptions(args: SRULayerArgs): SRUOptions {
  return {
    groupNum: args.groupNum == null ? 4 : args.groupNum,
    threshold: args.threshold == null ? 0.5 : args.threshold,
    gate: args.gate == null ? 'soft' : args.gate,
    epsilon: args.epsilon == null ? 1e-5 : args.epsilon,
  };
}

/** SRU layer: `[N, H, W, C] → [N, H, W, C]`, C even and divisible by groupNum. */
export class SRU extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvSRU';
  readonly options: SRUOptions;
  gamma?: tf.LayerVariable;
  beta?: tf.LayerVariable;

  constructor(args: SRULayerArgs = {}) {
    super(args);
    this.options = sruOptions(args);
    verifySRUOptions('SRU', this.options);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = channelsOf(singleShape(inputShape), 'SRU');
    this.checkInputChannels(c);
    // Names differ from CRU's so both can live in one SCConv's weight scope.
    this.gamma = this.addWeight('gn_gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('gn_beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  checkInputChannels(channels: number): void {
    verifySRUChannels('SRU', channels, this.options.groupNum);
  }

  private weightsNow(): SRUWeights {
    return {gamma: this.gamma!.read(), beta: this.beta!.read()};
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => sru(singleInput(inputs), this.weightsNow(), this.options));
  }

  /** The importance map w and the gates W1, W2 (each `[N, H, W, C]`) for input x. */
  gates(x: tf.Tensor4D): {w: tf.Tensor4D, W1: tf.Tensor4D, W2: tf.Tensor4D} {
    if (!this.built) this.build(x.shape);
    return sruGates(x, this.weightsNow(), this.options);
  }

  /** w_γ = γ / Σγ (paper Eq. 2), `[C]`. */
  normalizedGamma(): tf.Tensor1D {
    return normalizedGamma(this.gamma!.read()) as tf.Tensor1D;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {...this.options};
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(SRU);
