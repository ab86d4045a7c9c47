/**
 * Ghost module (Han et al., GhostNet, CVPR 2020, https://arxiv.org/abs/1911.11907), one of the
 * SCConv paper's comparison modules (Table 2, Ghost-ResNet-56), as a drop-in k×k conv.
 *
 * A primary k×k conv makes m = ⌈filters/s⌉ "intrinsic" maps; a cheap d×d depthwise conv makes
 * (s−1) "ghost" maps from each; the concatenation is cut to `filters` channels.
 *
 * Convention (ours): the module is linear, no BatchNorm/ReLU inside. GhostNet's module puts
 * BN (+ReLU) after both parts; in a CIFAR ResNet the BN after the conv slot plays that role.
 * So params = k²·Cin·m + d²·m·(s−1) (GhostNet's own count adds 4m BN weights per module).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import {
  channelsOf, convMacs, convOutputShape, convSlotOptions, expectKernelSize, kernelInit, Kwargs, LayerArgs,
  Shape, singleInput, singleShape,
} from './layer_utils';

/** Ghost module forward: concat(primary, depthwise(primary))[..., :filters]. */
export function ghostConv(
    x: tf.Tensor4D, primary: tf.Tensor4D, cheap: tf.Tensor4D, filters: number, strides: number): tf.Tensor4D {
  return tf.tidy(() => {
    const intrinsic = tf.conv2d(x, primary, strides, 'same');
    const ghosts = tf.depthwiseConv2d(intrinsic, cheap, 1, 'same');
    const y = tf.concat([intrinsic, ghosts], 3) as tf.Tensor4D;
    return y.shape[3] === filters ? y : tf.slice(y, [0, 0, 0, 0], [-1, -1, -1, filters]);
  });
}

export declare interface GhostConvLayerArgs extends LayerArgs {
  /** Output channels. Required. */
  filters: number;
  /** Kernel size k of the primary conv (odd). Defaults to 3. */
  kernelSize?: number;
  /** Stride of the primary conv, 1 or 2. Defaults to 1. */
  strides?: number;
  /** Ratio s: filters/s intrinsic maps, the rest are ghosts. Defaults to 2. */
  ratio?: number;
  /** Kernel size d of the cheap depthwise conv (odd). Defaults to 3. */
  dwSize?: number;
}

/** GhostConv layer: `[N, H, W, Cin] → [N, H/s, W/s, filters]`, no bias. */
export class GhostConv extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvGhostConv';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly ratio: number;
  readonly dwSize: number;
  primary?: tf.LayerVariable;
  cheap?: tf.LayerVariable;

  constructor(args: GhostConvLayerArgs) {
    super(args);
    ({filters: this.filters, kernelSize: this.kernelSize, strides: this.strides} = convSlotOptions('GhostConv', args));
    this.ratio = args.ratio == null ? 2 : args.ratio;
    this.dwSize = args.dwSize == null ? 3 : args.dwSize;
    expect(Number.isInteger(this.ratio) && this.ratio >= 2, 'GhostConv', 'ratio to be an integer ≥ 2', this.ratio);
    expectKernelSize(this.dwSize, 'GhostConv');
  }

  /** Number of intrinsic maps m = ⌈filters / ratio⌉. */
  get intrinsic(): number {
    return Math.ceil(this.filters / this.ratio);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = channelsOf(singleShape(inputShape), 'GhostConv');
    const k = this.kernelSize, d = this.dwSize, m = this.intrinsic;
    this.primary = this.addWeight('primary', [k, k, c, m], 'float32', kernelInit());
    this.cheap = this.addWeight('cheap', [d, d, m, this.ratio - 1], 'float32', kernelInit());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return ghostConv(singleInput(inputs), this.primary!.read() as tf.Tensor4D, this.cheap!.read() as tf.Tensor4D,
      this.filters, this.strides);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return convOutputShape(inputShape, this.strides, this.filters);
  }

  /** Multiply-accumulates for one image: H'W'·(k²·Cin·m + d²·m·(s−1)). */
  macs(inputShape: Shape): number {
    const c = channelsOf(inputShape, 'GhostConv');
    const [, h, w] = this.computeOutputShape(inputShape) as number[];
    const m = this.intrinsic;
    return convMacs(h * w, this.kernelSize, c, m) + convMacs(h * w, this.dwSize, 1, m * (this.ratio - 1));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, ratio: this.ratio, dwSize: this.dwSize,
    };
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(GhostConv);
