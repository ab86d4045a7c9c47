/**
 * Channel Reconstruction Unit (CRU) of SCConv (Li, Wen & He, CVPR 2023), paper Eq. 5–9.
 *
 * Split: the channels go αC "upper" / (1−α)C "lower", each squeezed by 1×1 convs with ratio r.
 * Transform: upper → GWC (k×k, g groups, with bias) + PWC1 (1×1) = Y1 (Eq. 5); lower → PWC2
 * (1×1) concatenated with the squeezed lower features themselves (feature reuse) = Y2 (Eq. 6).
 * Fuse: global average pooling S1, S2 (Eq. 7), soft attention β1, β2 (Eq. 8), Y = β1Y1 + β2Y2 (Eq. 9).
 *
 * Two compositions of the same maths: tfjs ops (`cruBranches`, `cruBetas`: every backend), and,
 * where the backend provides the CRU kernels (the native backend: src/kernels/cru.ts), `cruFused`:
 * the squeezes and PWC2 as one kernel that reads each part of x in place (CRU_SQUEEZE), PWC1
 * folded into the GWC's conv (CRU_FILTER builds that filter), and Eq. 7–9 as one kernel
 * (CRU_FUSE) that adds the GWC's bias and reads Y2 as [PWC2 | lowS] without concatenating it, two
 * passes forward and two backward: three kernels (each with a gradient kernel) and a conv where the
 * composition runs ~25 ops. test/kernels/cru.test.ts checks the second against the first, values
 * and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { recordingGradients } from '../util/tape';
import { blockDiagonal, verifyGroups } from './grouped_conv';
import { channelsOf, convMacs, kernelInit, Kwargs, LayerArgs, Shape, singleInput, singleShape, spatialSum } from './layer_utils';

/** Fusion variants: 'pairwise' = paper Eq. 8 per channel, 'global' = softmax over all 2C. */
export type CRUFusion = 'pairwise' | 'global';
export const CRU_FUSIONS: readonly CRUFusion[] = ['pairwise', 'global'];

/** Options of the CRU maths (resolved, validated). */
export interface CRUOptions {
  alpha: number;
  squeezeRatio: number;
  groups: number;
  kernelSize: number;
  fusion: CRUFusion;
}

/** Weights of a CRU, HWIO kernels. */
export interface CRUWeights {
  squeeze1: tf.Tensor;  // [1, 1, up, ⌊up/r⌋]
  squeeze2: tf.Tensor;  // [1, 1, low, ⌊low/r⌋]
  gwcKernel: tf.Tensor;  // [k, k, ⌊up/r⌋/g, C]
  gwcBias: tf.Tensor;  // [C]
  pwc1: tf.Tensor;  // [1, 1, ⌊up/r⌋, C]
  pwc2: tf.Tensor;  // [1, 1, ⌊low/r⌋, C − ⌊low/r⌋]
}

/**
 * Channel plan of a CRU, the reference's arithmetic (PyTorch's `int(α·C)` and `// r`):
 * up = ⌊αC⌋, low = C − up, squeezed to ⌊up/r⌋ and ⌊low/r⌋ (e.g. C = 24, α = 0.375, r = 2:
 * up 9 → 4, low 15 → 7). GWC and PWC1 map the ⌊up/r⌋ squeezed channels to C, PWC2 maps
 * ⌊low/r⌋ to C − ⌊low/r⌋.
 */
export interface CRUChannels {
  channels: number;
  up: number;
  low: number;
  upSqueezed: number;
  lowSqueezed: number;
}

/**
 * Work out and validate the channel plan for C channels. It fails only where PyTorch cannot build
 * or run the layer either (an empty part or squeeze, groups not dividing the GWC's channels);
 * errors name the bad value and the fix.
 */
export function cruChannels(who: string, channels: number, o: CRUOptions): CRUChannels {
  const up = Math.floor(o.alpha * channels);
  const low = channels - up;
  expect(up > 0 && low > 0, who,
    `alpha to leave both parts non-empty: ⌊alpha·C⌋ in [1, C−1] for C=${channels} ` +
    `(use alpha in [${(1 / channels).toFixed(3)}, ${(1 - 1 / channels).toFixed(3)}])`, o.alpha);
  const upSqueezed = Math.floor(up / o.squeezeRatio);
  const lowSqueezed = Math.floor(low / o.squeezeRatio);
  expect(upSqueezed > 0 && lowSqueezed > 0, who,
    `squeezeRatio to leave at least one channel in each squeezed part (⌊αC/r⌋ = ⌊${up}/r⌋ and ` +
    `⌊(1−α)C/r⌋ = ⌊${low}/r⌋ for alpha=${o.alpha}, C=${channels}; use squeezeRatio ≤ ${Math.min(up, low)})`, o.squeezeRatio);
  verifyGroups(who, o.groups, upSqueezed, channels);
  return {channels, up, low, upSqueezed, lowSqueezed};
}

/** Validate CRU options that do not depend on the channel count. */
export function verifyCRUOptions(who: string, o: CRUOptions): void {
  expect(typeof o.alpha === 'number' && o.alpha > 0 && o.alpha < 1, who, 'alpha in (0, 1)', o.alpha);
  expect(Number.isInteger(o.squeezeRatio) && o.squeezeRatio > 0, who, 'squeezeRatio to be a positive integer', o.squeezeRatio);
  expect(Number.isInteger(o.groups) && o.groups > 0, who, 'groups to be a positive integer', o.groups);
  expect(Number.isInteger(o.kernelSize) && o.kernelSize > 0 && o.kernelSize % 2 === 1, who,
    'kernelSize to be a positive odd integer (e.g. 3)', o.kernelSize);
  expect((CRU_FUSIONS as readonly string[]).includes(o.fusion), who,
    `fusion to be one of ${CRU_FUSIONS.map((f) => `'${f}'`).join(', ')}`, o.fusion);
}

/** The squeeze kernels as `[C, ⌊up/r⌋]` and `[C, ⌊low/r⌋]`, zero in the rows of the other part. */
function squeezeKernels(p: CRUChannels, w: CRUWeights): {k1: tf.Tensor2D, k2: tf.Tensor2D} {
  return {
    k1: tf.pad(tf.reshape(w.squeeze1, [p.up, p.upSqueezed]), [[0, p.low], [0, 0]]),  // reads x[..., :up]
    k2: tf.pad(tf.reshape(w.squeeze2, [p.low, p.lowSqueezed]), [[p.up, 0], [0, 0]]),  // reads x[..., up:]
  };
}

/** The squeezed parts (1×1 convs, ratio r) of x as `[NHW, C]`: upper `[NHW, ⌊up/r⌋]`, lower `[NHW, ⌊low/r⌋]`. */
function squeezed(x2: tf.Tensor2D, p: CRUChannels, w: CRUWeights): {upS: tf.Tensor2D, lowS: tf.Tensor2D} {
  const {k1, k2} = squeezeKernels(p, w);
  return {upS: tf.matMul(x2, k1), lowS: tf.matMul(x2, k2)};
}

/**
 * The two transformed branches Y1 (Eq. 5) and Y2 (Eq. 6), each `[N, H, W, C]`.
 *
 * No activation is sliced (slices along channels are slow on the tfjs cpu backend): the 1×1
 * squeezes read their part of x through kernels padded with zero rows. The GWC is one dense conv
 * whose kernel is block-diagonal (zeros across groups, see `blockDiagonal`), so the gradient
 * across groups is zero by construction. Against per-group convs on split inputs (g matmuls, g
 * convs, two concats) it does g× the GWC's multiply-adds in fewer, larger calls: SCConv-ResNet-20
 * at batch 128 on the native backend trained 7–12% and inferred 30–40% faster (two runs each);
 * on the stock cpu backend inference was 20% slower, training the same.
 */
export function cruBranches(x: tf.Tensor4D, p: CRUChannels, w: CRUWeights, o: CRUOptions): {y1: tf.Tensor4D, y2: tf.Tensor4D} {
  return tf.tidy(() => {
    const [n, h, wd, c] = x.shape;
    const {upS, lowS} = squeezed(tf.reshape(x, [n * h * wd, c]), p, w);
    const gwc = tf.conv2d(tf.reshape(upS, [n, h, wd, p.upSqueezed]) as tf.Tensor4D, blockDiagonal(w.gwcKernel as tf.Tensor4D, o.groups), 1, 'same');
    // (tf.fused.matMul could fold the bias in, but its cpu kernel is ~5× slower than these two ops.)
    const pwc1 = tf.matMul(upS, tf.reshape(w.pwc1, [p.upSqueezed, c]));
    const y1 = tf.add(tf.add(gwc, w.gwcBias), tf.reshape(pwc1, [n, h, wd, c])) as tf.Tensor4D;  // Eq. 5
    const pwc2 = tf.matMul(lowS, tf.reshape(w.pwc2, [p.lowSqueezed, c - p.lowSqueezed]));
    const y2 = tf.reshape(tf.concat([pwc2, lowS], 1), [n, h, wd, c]) as tf.Tensor4D;  // Eq. 6
    return {y1, y2};
  });
}

/** Attention weights β1, β2, each `[N, 1, 1, C]`, from the pooled branches (Eq. 7–8). */
export function cruBetas(y1: tf.Tensor4D, y2: tf.Tensor4D, fusion: CRUFusion): {beta1: tf.Tensor4D, beta2: tf.Tensor4D} {
  return tf.tidy(() => {
    const pixels = y1.shape[1] * y1.shape[2];
    const s1 = tf.div(spatialSum(y1), pixels);  // Eq. 7: global average pooling
    const s2 = tf.div(spatialSum(y2), pixels);
    if (fusion === 'pairwise') {
      // Eq. 8: β1 = e^S1 / (e^S1 + e^S2) = sigmoid(S1 − S2), per channel.
      const beta1 = tf.sigmoid(tf.sub(s1, s2)) as tf.Tensor4D;
      return {beta1, beta2: tf.sub(1, beta1) as tf.Tensor4D};
    }
    // Porting note: the unofficial PyTorch code takes one softmax over all 2C pooled channels.
    const c = y1.shape[3];
    const [beta1, beta2] = tf.split(tf.softmax(tf.concat([s1, s2], 3)), [c, c], 3) as tf.Tensor4D[];
    return {beta1, beta2};
  });
}

/**
 * The name of the fused kernel of Eq. 7–9 that a backend may provide ('native' does:
 * src/kernels/cru.ts). Inputs {y1 `[N, H, W, C]`, bias `[C]`, pwc2 `[N, H, W, C − ⌊low/r⌋]`, low
 * `[N, H, W, ⌊low/r⌋]`}, Y1 being y1 + bias (the GWC's output and bias, Eq. 5) and Y2 being
 * [pwc2 | low] (Eq. 6), neither materialised; attr `fusion`; outputs [Y `[N, H, W, C]`,
 * β `[N, 2C]` = [β1 | β2]]. Its gradient goes to all four inputs.
 */
export const CRU_FUSE = 'SCConvCRUFuse';

/**
 * The name of the kernel of the CRU's three 1×1 convolutions that comes with CRU_FUSE: inputs
 * {x `[N, H, W, C]`, w1 `[1, 1, up, a]`, w2 `[1, 1, low, b]`, pwc2 `[1, 1, b, C − b]`} (the layer's
 * squeeze1, squeeze2 and PWC2 kernels; a = ⌊up/r⌋, b = ⌊low/r⌋) → [upS = x[..., :up]·w1 `[N, H, W, a]`,
 * lowS = x[..., up:]·w2 `[N, H, W, b]`, lowS·pwc2 `[N, H, W, C − b]`]. Each product reads its channel part of x
 * in place, so there is neither a slice nor a zero-padded kernel (`squeezeKernels`), and one
 * gradient kernel returns all four input gradients: dlowS' = dlowS + d(PWC2)·pwc2ᵀ,
 * dx = [dupS·w1ᵀ | dlowS'·w2ᵀ], dw1 = x[:, :up]ᵀ·dupS, dw2 = x[:, up:]ᵀ·dlowS', dpwc2 = lowSᵀ·d(PWC2).
 */
export const CRU_SQUEEZE = 'SCConvCRUSqueeze';

/**
 * The name of the kernel that builds the fused path's GWC filter: inputs {gwc `[k, k, a/g, C]`,
 * pwc1 `[1, 1, a, C]`}, attr groups → blockDiag(gwc) + centre(pwc1) `[k, k, a, C]` (see `cruFused`).
 * Its gradient hands each weight its entries of the filter's gradient: gwc its group's diagonal
 * blocks, pwc1 the centre tap.
 */
export const CRU_FILTER = 'SCConvCRUFilter';

/** Whether the current backend provides the fused CRU's kernels (else `cru` composes tfjs ops). */
export function hasFusedCRU(): boolean {
  const backend = tf.getBackend();
  return [CRU_FUSE, CRU_SQUEEZE, CRU_FILTER].every((k) => tf.getKernel(k, backend) !== undefined);
}

/**
 * The GWC's filter with PWC1 folded in, blockDiag(GWC) + centre(PWC1) `[k, k, ⌊up/r⌋, C]`: a 1×1
 * conv is the centre tap of a k×k 'same' conv, and the GWC's kernel is already dense
 * (block-diagonal), so Y1 = GWC(upS) + PWC1(upS) + bias (Eq. 5) is one conv with this filter (and
 * the bias, which CRU_FUSE adds), at no extra multiply-adds. On backends with the fused CRU (CRU_FILTER).
 */
export function gwcFilter(w: CRUWeights, o: CRUOptions): tf.Tensor4D {
  return tf.engine().runKernel(CRU_FILTER, {gwc: w.gwcKernel, pwc1: w.pwc1}, {groups: o.groups}) as tf.Tensor4D;
}

/**
 * The CRU through CRU_SQUEEZE, one conv (`gwcFilter`) and CRU_FUSE, on backends that provide them.
 * Against the composition (`cruBranches`, `cruBetas`): no zero-padded squeeze kernels, no PWC1
 * matmul and its two adds, no pooling, softmax and broadcast products, no concatenation of Y2, and
 * 27 kernel calls per CRU forward + backward instead of 148 (the kernels take and give
 * [N, H, W, ·] tensors, so no reshapes either); each call costs time whatever its size
 * (docs/performance.md, "CRU kernels").
 */
function cruFused(x: tf.Tensor4D, w: CRUWeights, o: CRUOptions, filter?: tf.Tensor4D): tf.Tensor4D {
  const [upS, lowS, pwc2] = tf.engine().runKernel(CRU_SQUEEZE,
    {x, w1: w.squeeze1, w2: w.squeeze2, pwc2: w.pwc2}) as tf.Tensor4D[];
  // Eq. 5 without its bias, which CRU_FUSE adds (and whose gradient it computes).
  const y1 = tf.conv2d(upS, filter ?? gwcFilter(w, o), 1, 'same');
  const [y] = tf.engine().runKernel(CRU_FUSE, {y1, bias: w.gwcBias, pwc2, low: lowS}, {fusion: o.fusion}) as tf.Tensor[];
  return y as tf.Tensor4D;
}

/**
 * CRU forward: Y = β1·Y1 + β2·Y2 (Eq. 9); pairwise as Y2 + β1·(Y1 − Y2), one broadcast multiply.
 * Where the backend provides the fused CRU, the same maths runs through it (`cruFused`), reading
 * `filter` (= gwcFilter(w, o)) when given: the CRU layer passes one it built once, outside
 * gradient computations.
 */
export function cru(x: tf.Tensor4D, p: CRUChannels, w: CRUWeights, o: CRUOptions, filter?: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (hasFusedCRU()) return cruFused(x, w, o, filter);
    const {y1, y2} = cruBranches(x, p, w, o);
    const {beta1, beta2} = cruBetas(y1, y2, o.fusion);
    if (o.fusion === 'pairwise') return tf.add(y2, tf.mul(beta1, tf.sub(y1, y2))) as tf.Tensor4D;
    return tf.add(tf.mul(beta1, y1), tf.mul(beta2, y2)) as tf.Tensor4D;
  });
}

/** Parameters of a CRU: the squeezes, GWC (+bias), PWC1, PWC2 (paper Eq. 10–11 plus GWC bias). */
export function cruParams(p: CRUChannels, o: CRUOptions): number {
  const C = p.channels;
  return p.up * p.upSqueezed + p.low * p.lowSqueezed + o.kernelSize ** 2 * (p.upSqueezed / o.groups) * C + C +
    p.upSqueezed * C + p.lowSqueezed * (C - p.lowSqueezed);
}

/** Multiply-accumulates of a CRU on an H×W map (1×1 convs, GWC, PWCs; pooling and fusion not counted). */
export function cruMacs(pixels: number, p: CRUChannels, o: CRUOptions): number {
  const C = p.channels;
  return convMacs(pixels, 1, p.up, p.upSqueezed) + convMacs(pixels, 1, p.low, p.lowSqueezed) +
    convMacs(pixels, o.kernelSize, p.upSqueezed / o.groups, C) + convMacs(pixels, 1, p.upSqueezed, C) +
    convMacs(pixels, 1, p.lowSqueezed, C - p.lowSqueezed);
}

export declare interface CRULayerArgs extends LayerArgs {
  /** Split ratio α in (0, 1): ⌊αC⌋ channels go to the upper (rich) part. Defaults to 0.5. */
  alpha?: number;
  /** Squeeze ratio r: the parts are squeezed to ⌊αC/r⌋ and ⌊(1−α)C/r⌋ channels (at least 1 each). Defaults to 2. */
  squeezeRatio?: number;
  /** Groups g of the GWC; must divide ⌊αC/r⌋ and C. Defaults to 2. */
  groups?: number;
  /** Kernel size k of the GWC (odd, 'same' padding). Defaults to 3. */
  kernelSize?: number;
  /** 'pairwise' (paper Eq. 8, per channel) or 'global' (softmax over all 2C). Defaults to 'pairwise'. */
  fusion?: CRUFusion;
}

/** Resolve CRU defaults. */
export function cruOptions(args: CRULayerArgs): CRUOptions {
  return {
    alpha: args.alpha == null ? 0.5 : args.alpha,
    squeezeRatio: args.squeezeRatio == null ? 2 : args.squeezeRatio,
    groups: args.groups == null ? 2 : args.groups,
    kernelSize: args.kernelSize == null ? 3 : args.kernelSize,
    fusion: args.fusion == null ? 'pairwise' : args.fusion,
  };
}

/** CRU layer: `[N, H, W, C] → [N, H, W, C]`. */
export class CRU extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvCRU';
  readonly options: CRUOptions;
  plan?: CRUChannels;
  squeeze1?: tf.LayerVariable;
  squeeze2?: tf.LayerVariable;
  gwcKernel?: tf.LayerVariable;
  gwcBias?: tf.LayerVariable;
  pwc1?: tf.LayerVariable;
  pwc2?: tf.LayerVariable;

  constructor(args: CRULayerArgs = {}) {
    super(args);
    this.options = cruOptions(args);
    verifyCRUOptions('CRU', this.options);
  }

  override build(inputShape: Shape | Shape[]): void {
    const p = this.plan = this.checkInputChannels(channelsOf(singleShape(inputShape), 'CRU'));
    const k = this.options.kernelSize;
    const init = kernelInit();
    this.squeeze1 = this.addWeight('squeeze1', [1, 1, p.up, p.upSqueezed], 'float32', init);
    this.squeeze2 = this.addWeight('squeeze2', [1, 1, p.low, p.lowSqueezed], 'float32', init);
    this.gwcKernel = this.addWeight('GWC_kernel', [k, k, p.upSqueezed / this.options.groups, p.channels], 'float32', init);
    this.gwcBias = this.addWeight('GWC_bias', [p.channels], 'float32', tf.initializers.zeros());
    this.pwc1 = this.addWeight('PWC1', [1, 1, p.upSqueezed, p.channels], 'float32', init);
    this.pwc2 = this.addWeight('PWC2', [1, 1, p.lowSqueezed, p.channels - p.lowSqueezed], 'float32', init);
    this.built = true;
  }

  /** Validate (and return) the channel plan for `channels` input channels. */
  checkInputChannels(channels: number): CRUChannels {
    return cruChannels('CRU', channels, this.options);
  }

  private weightsNow(): CRUWeights {
    return {
      squeeze1: this.squeeze1!.read(), squeeze2: this.squeeze2!.read(), gwcKernel: this.gwcKernel!.read(),
      gwcBias: this.gwcBias!.read(), pwc1: this.pwc1!.read(), pwc2: this.pwc2!.read(),
    };
  }

  /** The fused path's GWC filter and the data ids of the weights it was built from (a new one on every write). */
  private fused?: {from: tf.DataId[]; filter: tf.Tensor4D};

  /**
   * The fused path's GWC filter (`gwcFilter`), built once and kept while GWC and PWC1 stay the
   * same, so that inference skips building it on every call and the native conv sees the same
   * filter tensor every time (it keeps that filter's reordered copy). Undefined inside a gradient
   * computation (the filter must be built on the tape there, so gradients reach GWC and PWC1) and
   * where the backend has no fused CRU.
   */
  private fusedFilter(w: CRUWeights): tf.Tensor4D | undefined {
    if (!hasFusedCRU() || recordingGradients()) return undefined;
    const from = [w.gwcKernel, w.pwc1].map((t) => t.dataId);
    if (this.fused?.from.every((d, i) => d === from[i])) return this.fused.filter;
    this.releaseFusedFilter();
    const filter = tf.keep(gwcFilter(w, this.options));
    this.fused = {from, filter};
    return filter;
  }

  /**
   * The CRU's inputs of SCConv's one-kernel inference forward (SCCONV_INFERENCE, src/layers/scconv.ts):
   * the squeezes, PWC2, the kept GWC filter with PWC1 folded in, and the GWC's bias; undefined where
   * `fusedFilter` is (inside a gradient computation, or on a backend without the fused CRU).
   */
  inferenceInputs(): {w1: tf.Tensor, w2: tf.Tensor, pwc2: tf.Tensor, filter: tf.Tensor4D, bias: tf.Tensor} | undefined {
    const w = this.weightsNow();
    const filter = this.fusedFilter(w);
    return filter && {w1: w.squeeze1, w2: w.squeeze2, pwc2: w.pwc2, filter, bias: w.gwcBias};
  }

  /** Dispose the kept GWC filter (the next inference call builds it again). */
  releaseFusedFilter(): void {
    this.fused?.filter.dispose();
    this.fused = undefined;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const w = this.weightsNow();
      return cru(singleInput(inputs), this.plan!, w, this.options, this.fusedFilter(w));
    });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.releaseFusedFilter();
    return super.dispose();
  }

  /** β1, β2 (Eq. 8), each `[N, 1, 1, C]`, for input x. */
  betas(x: tf.Tensor4D): {beta1: tf.Tensor4D, beta2: tf.Tensor4D} {
    if (!this.built) this.build(x.shape);
    return tf.tidy(() => {
      const {y1, y2} = cruBranches(x, this.plan!, this.weightsNow(), this.options);
      return cruBetas(y1, y2, this.options.fusion);
    });
  }

  /** Multiply-accumulates for one image of this input shape. */
  macs(inputShape: Shape): number {
    const plan = this.checkInputChannels(channelsOf(inputShape, 'CRU'));
    return cruMacs((inputShape[1] as number) * (inputShape[2] as number), plan, this.options);
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
tf.serialization.registerClass(CRU);
