/**
 * SCConv: Spatial and Channel reconstruction Convolution (Li, Wen & He, CVPR 2023,
 * https://openaccess.thecvf.com/content/CVPR2023/html/Li_SCConv_Spatial_and_Channel_Reconstruction_Convolution_for_Feature_Redundancy_CVPR_2023_paper.html).
 *
 * SCConv = SRU (spatial redundancy) then CRU (channel redundancy); it replaces a k×k conv
 * that keeps channels and stride.
 *
 * Channel/stride adapter (this library's choice, not in the paper): when asked for
 * `filters` ≠ C or `strides` = 2, the layer runs SCConv(C) at full resolution and then a
 * 1×1 projection C → filters with that stride. Every pixel is seen by the k×k GWC before the
 * strided step drops 3 of 4 positions, as in the strided 3×3 conv it replaces (a strided 1×1
 * projection *first* would discard them unseen). Extra cost: C·filters weights and
 * H'·W'·C·filters multiply-adds.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { CRU, CRULayerArgs } from './cru';
import {
  channelsOf, convMacs, convOutputShape, expectStrides, kernelInit, Kwargs, pointwiseConv, Shape,
  singleInput, singleShape,
} from './layer_utils';
import { SRU, SRULayerArgs } from './sru';

export declare interface SCConvLayerArgs extends SRULayerArgs, CRULayerArgs {
  /** Output channels; a value other than the input's adds the 1×1 projection. Defaults to the input channels. */
  filters?: number;
  /** Stride 1 or 2; 2 adds the (strided) 1×1 projection. Defaults to 1. */
  strides?: number;
}

/** SCConv layer: `[N, H, W, C] → [N, H/s, W/s, filters]` (`[N, H, W, C]` by default). */
export class SCConv extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConv';
  readonly sru: SRU;
  readonly cru: CRU;
  readonly filters: number | null;
  readonly strides: number;
  /** The adapter's 1×1 projection `[1, 1, C, filters]`, present only when needed. */
  projection?: tf.LayerVariable;

  constructor(args: SCConvLayerArgs = {}) {
    super(args);
    this.filters = args.filters == null ? null : args.filters;
    this.strides = args.strides == null ? 1 : args.strides;
    expect(this.filters == null || (Number.isInteger(this.filters) && this.filters > 0), 'SCConv',
      'filters to be a positive integer (or left out to keep the input channels)', this.filters);
    expectStrides(this.strides, 'SCConv');
    // Sub-layers validate their own options; their weights are adopted by this layer in build().
    const {groupNum, threshold, gate, epsilon, alpha, squeezeRatio, groups, kernelSize, fusion} = args;
    this.sru = new SRU({name: `${this.name}_sru`, groupNum, threshold, gate, epsilon});
    this.cru = new CRU({name: `${this.name}_cru`, alpha, squeezeRatio, groups, kernelSize, fusion});
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const c = channelsOf(shape, 'SCConv');
    this.checkInputChannels(c);
    this.sru.build(shape);
    this.cru.build(shape);
    this._trainableWeights.push(...this.sru.trainableWeights, ...this.cru.trainableWeights);
    if (this.needsProjection(c)) {
      this.projection = this.addWeight('proj', [1, 1, c, this.filters ?? c], 'float32', kernelInit());
    }
    this.built = true;
  }

  checkInputChannels(channels: number): void {
    this.sru.checkInputChannels(channels);
    this.cru.checkInputChannels(channels);
  }

  /** Whether the channel/stride adapter is needed for C input channels. */
  needsProjection(channels: number): boolean {
    return (this.filters != null && this.filters !== channels) || this.strides !== 1;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const y = this.cru.call(this.sru.call(singleInput(inputs), kwargs), kwargs) as tf.Tensor4D;
      if (!this.projection) return y;
      // A strided 1×1 conv keeps pixels 0, s, 2s, … (tf.stridedSlice would, but has no gradient).
      const kernel = this.projection.read() as tf.Tensor4D;
      return this.strides === 1 ? pointwiseConv(y, kernel) : tf.conv2d(y, kernel, this.strides, 'same');
    });
  }

  /** SRU's importance map and gates {w, W1, W2} for input x. */
  gates(x: tf.Tensor4D): {w: tf.Tensor4D, W1: tf.Tensor4D, W2: tf.Tensor4D} {
    return this.sru.gates(x);
  }

  /** CRU's β1, β2 for input x (x goes through the SRU first, as in the forward pass). */
  betas(x: tf.Tensor4D): {beta1: tf.Tensor4D, beta2: tf.Tensor4D} {
    if (!this.built) this.build(x.shape);
    return tf.tidy(() => this.cru.betas(this.sru.call(x, {}) as tf.Tensor4D));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return convOutputShape(inputShape, this.strides, this.filters ?? (singleShape(inputShape)[3] as number));
  }

  /** Multiply-accumulates for one image: CRU's convs plus the adapter's projection. */
  macs(inputShape: Shape): number {
    const c = channelsOf(inputShape, 'SCConv');
    const [, h, w, out] = this.computeOutputShape(inputShape) as number[];
    const cruPart = this.cru.macs(inputShape);
    return this.needsProjection(c) ? cruPart + convMacs(h * w, 1, c, out) : cruPart;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...this.sru.options, ...this.cru.options, filters: this.filters, strides: this.strides,
    };
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(SCConv);
