/**
 * SCConv: Spatial and Channel reconstruction Convolution (Li, Wen & He, CVPR 2023,
 * https://openaccess.thecvf.com/content/CVPR2023/html/Li_SCConv_Spatial_and_Channel_Reconstruction_Convolution_for_Feature_Redundancy_CVPR_2023_paper.html).
 *
 * SCConv = SRU (spatial redundancy) then CRU (channel redundancy); it replaces a k×k conv
 * that keeps channels and stride.
 *
 * `parts` picks the variant for an ablation in the pattern of the paper's Table 1:
 *   'sru-cru'   SRU then CRU: SCConv (the default)
 *   'sru'       SRU then the standard k×k conv it precedes (no bias)
 *   'cru'       CRU alone in place of the k×k conv
 *   'cru-sru'   CRU then SRU
 *   'parallel'  SRU and CRU on the same input, outputs summed. This is our reading of the
 *               paper's "parallel" arrangement; the paper does not spell out how the two are merged.
 *
 * Channel/stride adapter (this library's choice, not in the paper): when asked for
 * `filters` ≠ C or `strides` = 2, the layer runs SCConv(C) at full resolution and then a
 * 1×1 projection C → filters with that stride. Every pixel is seen by the k×k GWC before the
 * strided step drops 3 of 4 positions, as in the strided 3×3 conv it replaces (a strided 1×1
 * projection *first* would discard them unseen). Extra cost: C·filters weights and
 * H'·W'·C·filters multiply-adds. Variant 'sru' needs no adapter: its k×k conv maps C → filters
 * with the stride itself, as the standard conv it keeps would.
 *
 * Outside gradient computations, on a backend that provides SCCONV_INFERENCE (the native one),
 * 'sru-cru' runs as that one kernel: SRU and CRU one example at a time in cache, the same maths as
 * the SRU and CRU layers' own path (test/kernels/scconv.test.ts holds it to the composition).
 *
 * `recompute: true` trades time for memory (the tip of the seed blog): the forward pass keeps only
 * the SCConv's input for the backward pass, not the SRU/CRU intermediates (gates, branches, their
 * products: about a dozen full-size tensors per layer); the backward pass runs the SRU/CRU forward
 * again under a gradient tape and returns its gradients (see `recomputed`). The adapter's
 * projection stays outside and is kept as usual. Outputs and gradients are the same either way.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, ValueError } from '../errors';
import { CRU, CRULayerArgs, CRUOptions, cruOptions, verifyCRUOptions } from './cru';
import {
  channelsOf, convMacs, convOutputShape, expectStrides, kernelInit, Kwargs, pointwiseConv, Shape,
  singleInput, singleShape,
} from './layer_utils';
import { SRU, SRULayerArgs, SRUOptions, sruOptions, verifySRUOptions } from './sru';
import { recordingGradients } from '../util/tape';

/** The SCConv variants (see the file comment); 'sru-cru' is SCConv itself. */
export const SCCONV_PARTS = ['sru-cru', 'sru', 'cru', 'cru-sru', 'parallel'] as const;
export type SCConvParts = (typeof SCCONV_PARTS)[number];

export declare interface SCConvLayerArgs extends SRULayerArgs, CRULayerArgs {
  /** Output channels; a value other than the input's adds the 1×1 projection. Defaults to the input channels. */
  filters?: number;
  /** Stride 1 or 2; 2 adds the (strided) 1×1 projection. Defaults to 1. */
  strides?: number;
  /** Which units and in which arrangement (ablation variants). Defaults to 'sru-cru' (SCConv). */
  parts?: SCConvParts;
  /** Keep only the input for the backward pass and recompute SRU/CRU there (less memory, more time). Defaults to false. */
  recompute?: boolean;
}

/** The engine state that a gradient computation inside a backward pass must leave as it found it. */
interface TapeState { state: { activeTape: unknown } }

/**
 * `core(x)` whose backward pass recomputes it: the forward runs `core` untaped and saves only x;
 * the backward runs `core` again under a tape and differentiates it with respect to x and every
 * weight in `weights` (the tensors `core` reads; they must be its tape inputs so that they get
 * their gradients). tfjs's tf.customGrad gives gradients only to its explicit inputs, hence the
 * weights are passed in even though `core` reads them itself.
 */
function recomputed(core: (x: tf.Tensor4D) => tf.Tensor4D, x: tf.Tensor4D, weights: tf.Tensor[]): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([args[0] as tf.Tensor]);
    return {
      value: core(args[0] as tf.Tensor4D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // A gradient computation started here replaces the engine's active tape (tfjs-core 4.22
        // engine.gradients) and nulls it when done; the outer backward pass still needs it.
        const engine = tf.engine() as unknown as TapeState;
        const outerTape = engine.state.activeTape;
        try {
          const xs = [saved[0], ...weights];
          const {grads} = tf.engine().gradients(() => core(saved[0] as tf.Tensor4D), xs, dy, true);
          return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
        } finally {
          engine.state.activeTape = outerTape;
        }
      },
    };
  });
  return f(x, ...weights) as tf.Tensor4D;
}

/**
 * The name of the kernel of SCConv's whole inference forward (SRU then CRU) that a backend may
 * provide ('native' does: src/kernels/scconv.ts): inputs {x `[N, H, W, C]`, gamma, beta `[C]` (the
 * SRU's), w1, w2, pwc2 (the CRU's squeezes and PWC2), filter (`gwcFilter`: the GWC with PWC1 folded
 * in), bias `[C]` (the GWC's)}, attrs the SRU's options and the CRU's fusion; output CRU(SRU(x)).
 * It has no gradient: the layer calls it outside gradient computations only.
 */
export const SCCONV_INFERENCE = 'SCConvInference';

/** SCConv layer: `[N, H, W, C] → [N, H/s, W/s, filters]` (`[N, H, W, C]` by default). */
export class SCConv extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConv';
  readonly parts: SCConvParts;
  readonly filters: number | null;
  readonly strides: number;
  readonly recompute: boolean;
  /** The sub-layers this variant has (null where `parts` leaves one out); read them through `sru`/`cru`. */
  readonly sruLayer: SRU | null;
  readonly cruLayer: CRU | null;
  /** Variant 'sru' only: the standard k×k conv kernel `[k, k, C, filters]` (no bias). */
  convKernel?: tf.LayerVariable;
  /** The adapter's 1×1 projection `[1, 1, C, filters]`, present only when needed. */
  projection?: tf.LayerVariable;
  /** SRU and CRU options as resolved at construction, also for the unit a variant leaves out. */
  private readonly unitOptions: SRUOptions & CRUOptions;

  constructor(args: SCConvLayerArgs = {}) {
    super(args);
    this.parts = args.parts == null ? 'sru-cru' : args.parts;
    expect((SCCONV_PARTS as readonly string[]).includes(this.parts), 'SCConv',
      `parts to be one of ${SCCONV_PARTS.map((p) => `'${p}'`).join(', ')}`, this.parts);
    this.filters = args.filters == null ? null : args.filters;
    this.strides = args.strides == null ? 1 : args.strides;
    this.recompute = args.recompute == null ? false : args.recompute;
    expect(typeof this.recompute === 'boolean', 'SCConv', 'recompute to be true or false', this.recompute);
    expect(this.filters == null || (Number.isInteger(this.filters) && this.filters > 0), 'SCConv',
      'filters to be a positive integer (or left out to keep the input channels)', this.filters);
    expectStrides(this.strides, 'SCConv');
    // Every option is checked (and serialized) whichever parts are used; the sub-layers' weights are
    // adopted by this layer in build().
    const sruOpts = sruOptions(args);
    const cruOpts = cruOptions(args);
    verifySRUOptions('SRU', sruOpts);
    verifyCRUOptions('CRU', cruOpts);
    this.unitOptions = {...sruOpts, ...cruOpts};
    this.sruLayer = this.parts === 'cru' ? null : new SRU({name: `${this.name}_sru`, ...sruOpts});
    this.cruLayer = this.parts === 'sru' ? null : new CRU({name: `${this.name}_cru`, ...cruOpts});
  }

  /** The SRU; a ValueError for variant 'cru', which has none. */
  get sru(): SRU {
    if (!this.sruLayer) throw new ValueError(`SCConv ${this.name} has parts '${this.parts}', which has no SRU; use parts ${partsWith('sru')}.`);
    return this.sruLayer;
  }

  /** The CRU; a ValueError for variant 'sru', which has none. */
  get cru(): CRU {
    if (!this.cruLayer) throw new ValueError(`SCConv ${this.name} has parts '${this.parts}', which has no CRU; use parts ${partsWith('cru')}.`);
    return this.cruLayer;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const c = channelsOf(shape, 'SCConv');
    this.checkInputChannels(c);
    for (const part of [this.sruLayer, this.cruLayer]) {
      if (!part) continue;
      part.build(shape);
      this._trainableWeights.push(...part.trainableWeights);
    }
    const k = this.unitOptions.kernelSize;
    if (this.parts === 'sru') this.convKernel = this.addWeight('conv_kernel', [k, k, c, this.filters ?? c], 'float32', kernelInit());
    if (this.needsProjection(c)) {
      this.projection = this.addWeight('proj', [1, 1, c, this.filters ?? c], 'float32', kernelInit());
    }
    this.built = true;
  }

  checkInputChannels(channels: number): void {
    this.sruLayer?.checkInputChannels(channels);
    this.cruLayer?.checkInputChannels(channels);
  }

  /** Whether the channel/stride adapter is needed for C input channels (never for 'sru'). */
  needsProjection(channels: number): boolean {
    return this.parts !== 'sru' && ((this.filters != null && this.filters !== channels) || this.strides !== 1);
  }

  /** The variant's units on `x`, before the adapter: `[N, H, W, C]` (for 'sru': `[N, H/s, W/s, filters]`). */
  private core(x: tf.Tensor4D, kwargs: Kwargs): tf.Tensor4D {
    const sru = (t: tf.Tensor4D) => this.sru.call(t, kwargs) as tf.Tensor4D;
    const cru = (t: tf.Tensor4D) => this.cru.call(t, kwargs) as tf.Tensor4D;
    switch (this.parts) {
      case 'sru-cru': return this.inference(x) ?? cru(sru(x));
      case 'sru': return tf.conv2d(sru(x), this.convKernel!.read() as tf.Tensor4D, this.strides, 'same');
      case 'cru': return cru(x);
      case 'cru-sru': return sru(cru(x));
      case 'parallel': return tf.add(sru(x), cru(x));
    }
  }

  /** 'sru-cru' as one SCCONV_INFERENCE call, where the backend has it and no gradient is being recorded; else undefined. */
  private inference(x: tf.Tensor4D): tf.Tensor4D | undefined {
    if (recordingGradients() || tf.getKernel(SCCONV_INFERENCE, tf.getBackend()) == null) return undefined;
    const cruInputs = this.cru.inferenceInputs();
    if (!cruInputs) return undefined;
    const sru = this.sru;
    const attrs = {...sru.options, fusion: this.cru.options.fusion} as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel(SCCONV_INFERENCE, {x, gamma: sru.gamma!.read(), beta: sru.beta!.read(), ...cruInputs},
      attrs) as tf.Tensor4D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const y = this.recompute ? recomputed((t) => this.core(t, kwargs), x, this.coreWeights()) : this.core(x, kwargs);
      if (!this.projection) return y;
      // A strided 1×1 conv keeps pixels 0, s, 2s, … (tf.stridedSlice would, but has no gradient).
      const kernel = this.projection.read() as tf.Tensor4D;
      return this.strides === 1 ? pointwiseConv(y, kernel) : tf.conv2d(y, kernel, this.strides, 'same');
    });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.cruLayer?.releaseFusedFilter();  // the units are built here, not applied, so their own dispose never runs
    return super.dispose();
  }

  /** The weights `core` reads: the units' and, for 'sru', the k×k conv's (not the adapter's projection). */
  private coreWeights(): tf.Tensor[] {
    const units = [this.sruLayer, this.cruLayer].flatMap((u) => u ? u.trainableWeights : []);
    return [...units, ...(this.convKernel ? [this.convKernel] : [])].map((w) => w.read());
  }

  /** SRU's importance map and gates {w, W1, W2} for input x (for 'cru-sru': on CRU(x), the SRU's input). */
  gates(x: tf.Tensor4D): {w: tf.Tensor4D, W1: tf.Tensor4D, W2: tf.Tensor4D} {
    const sru = this.sru;
    if (!this.built) this.build(x.shape);
    if (this.parts !== 'cru-sru') return sru.gates(x);
    return tf.tidy(() => sru.gates(this.cru.call(x, {}) as tf.Tensor4D));
  }

  /** CRU's β1, β2 for input x (for 'sru-cru' x goes through the SRU first, as in the forward pass). */
  betas(x: tf.Tensor4D): {beta1: tf.Tensor4D, beta2: tf.Tensor4D} {
    const cru = this.cru;
    if (!this.built) this.build(x.shape);
    if (this.parts !== 'sru-cru') return cru.betas(x);
    return tf.tidy(() => cru.betas(this.sru.call(x, {}) as tf.Tensor4D));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return convOutputShape(inputShape, this.strides, this.filters ?? (singleShape(inputShape)[3] as number));
  }

  /**
   * Multiply-accumulates for one image: the CRU's convs (or, for 'sru', the k×k conv) plus the
   * adapter's projection. SRU and the sum of 'parallel' are element-wise: not counted.
   */
  macs(inputShape: Shape): number {
    const c = channelsOf(inputShape, 'SCConv');
    const [, h, w, out] = this.computeOutputShape(inputShape) as number[];
    if (this.parts === 'sru') return convMacs(h * w, this.unitOptions.kernelSize, c, out);
    const cruPart = this.cru.macs(inputShape);
    return this.needsProjection(c) ? cruPart + convMacs(h * w, 1, c, out) : cruPart;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...this.unitOptions, ...this.sruLayer?.options, ...this.cruLayer?.options,  // the live values (threshold may change)
      parts: this.parts, filters: this.filters, strides: this.strides, recompute: this.recompute,
    };
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(SCConv);

/** "'sru-cru', 'sru', 'cru-sru', 'parallel'": the variants that have `unit`, for error messages. */
function partsWith(unit: 'sru' | 'cru'): string {
  return SCCONV_PARTS.filter((p) => p === 'parallel' || p.includes(unit)).map((p) => `'${p}'`).join(', ');
}
