/**
 * Octave convolution (Chen et al., ICCV 2019, https://arxiv.org/abs/1904.05049), one of the
 * SCConv paper's comparison modules (Table 2, Octave-ResNet-56), as a drop-in k×k conv.
 *
 * A fraction α of the channels is treated as low-frequency and processed at half resolution:
 *   Y_H = f(X_H; W_HH) + up(f(X_L; W_LH)),   Y_L = f(pool(X_H); W_HL) + f(X_L; W_LL).
 *
 * Convention (ours): the layer takes and returns one full-resolution tensor, so it drops into
 * any conv slot: X_L = avgpool2(x[..., C_H:]) on the way in, and Y_L is nearest-upsampled and
 * concatenated after Y_H on the way out (the paper passes the (high, low) pair between layers
 * instead). A stride of 2 average-pools the input first, as the paper does. All four paths are
 * kept, so params equal a plain k×k conv (k²·Cin·Cout); multiply-adds are
 * (1−α)²·full + (1−(1−α)²)/4·full, i.e. 0.4375× the plain conv at α = 0.5.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import {
  channelsOf, convMacs, convOutputShape, convSlotOptions, kernelInit, Kwargs, LayerArgs,
  Shape, singleInput, singleShape,
} from './layer_utils';

/** The four kernels of an octave conv (HWIO). */
export interface OctaveWeights {
  hh: tf.Tensor4D;
  hl: tf.Tensor4D;
  lh: tf.Tensor4D;
  ll: tf.Tensor4D;
}

const pool2 = (x: tf.Tensor4D): tf.Tensor4D => tf.avgPool(x, 2, 2, 'valid');
/**
 * 2× nearest upsampling. Its gradient (each 2×2 block of dy summed) is taken as 4 · avgPool(dy):
 * exact (powers of two), and correct on every backend, whereas tfjs-backend-cpu 4.22's
 * ResizeNearestNeighborGrad reads dy at the images' batch offset, so for batch > 1 it returns
 * wrong gradients for every image after the first.
 */
const up2 = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor4D;
  return {
    value: tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4),
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;
const conv = (x: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D => tf.conv2d(x, k, 1, 'same');

/** Octave conv forward on a full-resolution NHWC tensor with even height and width. */
export function octaveConv(x: tf.Tensor4D, w: OctaveWeights, lowIn: number, strides: number): tf.Tensor4D {
  return tf.tidy(() => {
    const xs = strides === 2 ? pool2(x) : x;
    const [xh, xlFull] = tf.split(xs, [xs.shape[3] - lowIn, lowIn], 3) as tf.Tensor4D[];
    const xl = pool2(xlFull);
    const yh = tf.add(conv(xh, w.hh), up2(conv(xl, w.lh))) as tf.Tensor4D;
    const yl = tf.add(conv(pool2(xh), w.hl), conv(xl, w.ll)) as tf.Tensor4D;
    return tf.concat([yh, up2(yl)], 3) as tf.Tensor4D;
  });
}

export declare interface OctaveConvLayerArgs extends LayerArgs {
  /** Output channels. Required. */
  filters: number;
  /** Kernel size (odd). Defaults to 3. */
  kernelSize?: number;
  /** Stride 1 or 2 (2 = average-pool first). Defaults to 1. */
  strides?: number;
  /** Low-frequency fraction α in (0, 1), for input and output channels. Defaults to 0.5. */
  alpha?: number;
}

/** OctaveConv layer: `[N, H, W, Cin] → [N, H/s, W/s, filters]`, H and W even, no bias. */
export class OctaveConv extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvOctaveConv';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly alpha: number;
  kernels?: {hh: tf.LayerVariable, hl: tf.LayerVariable, lh: tf.LayerVariable, ll: tf.LayerVariable};

  constructor(args: OctaveConvLayerArgs) {
    super(args);
    ({filters: this.filters, kernelSize: this.kernelSize, strides: this.strides} = convSlotOptions('OctaveConv', args));
    this.alpha = args.alpha == null ? 0.5 : args.alpha;
    expect(typeof this.alpha === 'number' && this.alpha > 0 && this.alpha < 1, 'OctaveConv', 'alpha in (0, 1)', this.alpha);
    this.split(this.filters, 'filters');
  }

  /** [high, low] = [C − ⌊αC⌋, ⌊αC⌋], both non-empty. */
  split(channels: number, what = 'input channels'): [number, number] {
    const low = Math.floor(this.alpha * channels);
    expect(low > 0 && low < channels, 'OctaveConv',
      `alpha to leave both frequency parts non-empty for ${channels} ${what} (⌊alpha·${channels}⌋ in [1, ${channels - 1}])`,
      this.alpha);
    return [channels - low, low];
  }

  checkInputChannels(channels: number): void {
    this.split(channels);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    this.checkSpatial(shape);
    const [hIn, lIn] = this.split(channelsOf(shape, 'OctaveConv'));
    const [hOut, lOut] = this.split(this.filters, 'filters');
    const k = this.kernelSize;
    const add = (name: string, cin: number, cout: number) => this.addWeight(name, [k, k, cin, cout], 'float32', kernelInit());
    this.kernels = {hh: add('W_HH', hIn, hOut), hl: add('W_HL', hIn, lOut), lh: add('W_LH', lIn, hOut), ll: add('W_LL', lIn, lOut)};
    this.built = true;
  }

  /** Height and width must survive the stride's pooling and the low-frequency pooling. */
  private checkSpatial(shape: Shape): void {
    const need = 2 * this.strides;
    const [h, w] = [shape[1], shape[2]];
    expect((h == null || h % need === 0) && (w == null || w % need === 0), 'OctaveConv',
      `height and width divisible by ${need} (the low-frequency part is pooled by 2${this.strides === 2 ? ' after the stride' : ''})`,
      [h, w]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = singleInput(inputs);
    this.checkSpatial(x.shape);
    const k = this.kernels!;
    const w = {hh: k.hh.read(), hl: k.hl.read(), lh: k.lh.read(), ll: k.ll.read()} as OctaveWeights;
    return octaveConv(x, w, this.split(x.shape[3])[1], this.strides);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return convOutputShape(inputShape, this.strides, this.filters);
  }

  /** Multiply-accumulates for one image: HH at full resolution, the other three paths at half. */
  macs(inputShape: Shape): number {
    const [hIn, lIn] = this.split(channelsOf(inputShape, 'OctaveConv'));
    const [hOut, lOut] = this.split(this.filters, 'filters');
    const [, h, w] = this.computeOutputShape(inputShape) as number[];
    const k = this.kernelSize;
    const low = (h / 2) * (w / 2);
    return convMacs(h * w, k, hIn, hOut) + convMacs(low, k, lIn, hOut) + convMacs(low, k, hIn, lOut) +
      convMacs(low, k, lIn, lOut);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, alpha: this.alpha,
    };
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(OctaveConv);
