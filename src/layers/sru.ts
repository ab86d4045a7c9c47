/**
 * Spatial Reconstruction Unit (SRU) of SCConv (Li, Wen & He, CVPR 2023), paper Eq. 1–4.
 *
 * GroupNorm's γ measures how much spatial information each channel carries; a sigmoid of the
 * γ-weighted normalised map gives an importance map w, split by a threshold t into an
 * informative gate W1 and a redundant gate W2. The two gated copies of x are added back
 * crosswise (first half of one with the second half of the other) to reduce redundancy.
 *
 * The maths below is a composition of tfjs ops that runs on every backend. A backend may also
 * provide the whole unit as one kernel, FUSED_SRU_KERNEL, with its own gradient; `sru()` then calls
 * that instead. The native backend does (src/kernels/sru.ts, native/src/sru.cc): two passes over x
 * forward (GroupNorm statistics; then gates and the half swap by indexing, without the C×C matmul
 * or any stored gate) and two over x and dy backward. The composition here runs 44 kernels forward
 * (12 of them full-size elementwise ops, plus two batched sums over x and the C×C matmul) and 166
 * backward (tf.profile on cpu). test/kernels/sru.test.ts holds the kernel to this composition.
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

/** Importance map w = sigmoid(GN(x) · w_γ) (Eq. 1–3; w_γ = γ/Σγ of Eq. 2 folded into GN's scale and shift). */
export function importanceMap(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const {scale, shift} = groupNormAffine(x, opts.groupNum, weights.gamma, weights.beta, opts.epsilon);
    const wGamma = normalizedGamma(weights.gamma);  // [C], broadcast against the [N, 1, 1, C] scale and shift
    return tf.sigmoid(tf.add(tf.mul(x, tf.mul(scale, wGamma)), tf.mul(shift, wGamma))) as tf.Tensor4D;
  });
}

/**
 * Gates from the importance map and the threshold t (Eq. 3), with m = [w > t] = step(w − t):
 *   soft: W1 = where(w > t, 1, w) = W2 + m,   W2 = where(w > t, 0, w) = w − w·m
 *   hard: W1 = m,                             W2 = 1 − m
 */
function gatesFromMap(w: tf.Tensor, threshold: number, gate: SRUGate): {m: tf.Tensor, W1: tf.Tensor, W2: tf.Tensor} {
  const m = tf.step(tf.sub(w, threshold));
  const W2 = gate === 'soft' ? tf.sub(w, tf.mul(w, m)) : tf.sub(1, m);
  return {m, W1: gate === 'soft' ? tf.add(W2, m) : m, W2};
}

/** The importance map w and the gates W1, W2 (each `[N, H, W, C]`), for inspection. */
export function sruGates(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions):
    {w: tf.Tensor4D, W1: tf.Tensor4D, W2: tf.Tensor4D} {
  return tf.tidy(() => {
    const w = importanceMap(x, weights, opts);
    const {W1, W2} = gatesFromMap(w, opts.threshold, opts.gate);
    return {w, W1: W1 as tf.Tensor4D, W2: W2 as tf.Tensor4D};
  });
}

/**
 * Swap the two channel halves: `[a, b] → [b, a]` along the last axis, as a product with a C×C
 * permutation matrix. Forward on the stock tfjs cpu backend at 32×32×32×16 (one run on a shared
 * machine): 90 ms, against 817 ms for `tf.reverse` on a `[N, H, W, 2, C/2]` view and 577 ms for
 * slice + concat. The swap is its own transpose, so its gradient is the same product.
 */
export function swapHalves(x: tf.Tensor): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const perm = new Float32Array(c * c);
  for (let i = 0; i < c; i++) perm[((i + c / 2) % c) * c + i] = 1;  // output i reads input (i + C/2) mod C
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, c]), tf.tensor2d(perm, [c, c])), x.shape);
}

/**
 * Gate and reconstruct (Eq. 3–4): X1 = W1 ⊙ X, X2 = W2 ⊙ X, out = X1 + swap(X2), i.e.
 * `[X1_a + X2_b, X1_b + X2_a]` for the channel halves a, b. A custom gradient keeps only x and w
 * for the backward pass (autodiff would keep every gate and product, about 8 full-size tensors)
 * and computes, with q = dy + swap(dy):
 *   dx = W1 ⊙ dy + W2 ⊙ swap(dy)  (= W2 ⊙ q + m ⊙ dy for the soft gate)
 *   dw = (1 − m) ⊙ x ⊙ q for the soft gate; 0 for the hard gate (binary masks pass no gradient).
 */
export function gateAndReconstruct(x: tf.Tensor4D, w: tf.Tensor4D, threshold: number, gate: SRUGate): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xi, wi]);
    const {W1, W2} = gatesFromMap(wi, threshold, gate);
    return {
      value: tf.add(tf.mul(W1, xi), swapHalves(tf.mul(W2, xi))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved;
        const {m, W1: G1, W2: G2} = gatesFromMap(ws, threshold, gate);
        const dySwapped = swapHalves(dy);
        if (gate === 'hard') return [tf.add(tf.mul(G1, dy), tf.mul(G2, dySwapped)), tf.zerosLike(ws)];
        const q = tf.add(dy, dySwapped);
        return [tf.add(tf.mul(G2, q), tf.mul(m, dy)), tf.mul(tf.sub(1, m), tf.mul(xs, q))];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/**
 * The name of the fused SRU kernel a backend may provide (the native backend does:
 * src/kernels/sru.ts, native/src/sru.cc). Contract: inputs {x: float32 `[N, H, W, C]` with H·W ≥ 1,
 * C even and divisible by groupNum; gamma, beta: `[C]`}, attrs {@link SRUOptions}, outputs
 * [y `[N, H, W, C]` = the composition below, mean and rstd `[N, groupNum]`: the GroupNorm statistics,
 * kept for the kernel's own gradient]; its gradient (dx, dγ, dβ) is registered with the kernel.
 */
export const FUSED_SRU_KERNEL = 'SCConvSRU';

/**
 * SRU forward (Eq. 1–4). Where the active backend has the fused kernel, one kernel call (and one
 * for the gradient); elsewhere the composition of tfjs ops above: the same maths, which the
 * tests hold the fused kernel to.
 */
export function sru(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions): tf.Tensor4D {
  if (tf.getKernel(FUSED_SRU_KERNEL, tf.getBackend()) != null) {
    return tf.tidy(() => {
      const inputs = {x, gamma: weights.gamma, beta: weights.beta};
      const attrs = {...opts} as unknown as tf.NamedAttrMap;
      return (tf.engine().runKernel(FUSED_SRU_KERNEL, inputs, attrs) as tf.Tensor[])[0] as tf.Tensor4D;
    });
  }
  return sruComposed(x, weights, opts);
}

/** SRU forward (Eq. 1–4) as a composition of tfjs ops, whatever the backend. */
export function sruComposed(x: tf.Tensor4D, weights: SRUWeights, opts: SRUOptions): tf.Tensor4D {
  return tf.tidy(() => gateAndReconstruct(x, importanceMap(x, weights, opts), opts.threshold, opts.gate));
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
