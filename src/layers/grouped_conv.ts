/**
 * Grouped convolution (GWC), which TensorFlow.js lacks: the input channels and the output
 * filters are split into `groups` equal parts and part i of the output sees only part i of the
 * input (Krizhevsky et al. 2012; ResNeXt). SCConv's CRU does not use this layer: it computes its
 * k×k "group-wise" conv as one conv with a block-diagonal kernel (`blockDiagonal` below, cru.ts),
 * which measured faster on the native backend, where oneDNN's convolution dominates.
 *
 * Implementation choice (scripts/bench_grouped_conv.ts on the stock tfjs cpu backend, forward +
 * backward of `sum(y²)`, batch 64, 3×3): split the input and kernel, convolve each group, concat,
 * versus one conv with a block-diagonal masked kernel, which does `groups`× the multiply-adds.
 * Measured twice on a shared 2-core machine (4→16 @32², 8→32 @16², 16→64 @8² at groups 2, and
 * 16→64 @8² at groups 4), splitting was faster in every case: 1.6–1.8× in the first run,
 * 1.4–2.5× in the second at groups 2, and 4.0–5.4× at groups 4. So this layer splits. Both give zero gradient
 * across groups: each group's kernel slice only ever multiplies its own input channels.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import {
  channelsOf, convMacs, convOutputShape, convSlotOptions, expectPositiveInt, kernelInit, Kwargs, LayerArgs,
  Shape, singleInput, singleShape,
} from './layer_utils';

/**
 * Grouped 'same'-padded convolution. `x`: `[N, H, W, Cin]`; `kernel`: `[k, k, Cin/groups, Cout]`
 * (PyTorch's grouped weight `[Cout, Cin/groups, k, k]` in HWIO order); output `[N, H', W', Cout]`.
 */
export function groupedConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, groups: number, strides = 1): tf.Tensor4D {
  if (groups === 1) return tf.conv2d(x, kernel, strides, 'same');
  return tf.tidy(() => {
    const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
    const ks = tf.split(kernel, groups, 3) as tf.Tensor4D[];
    return tf.concat(xs.map((xi, i) => tf.conv2d(xi, ks[i], strides, 'same')), 3) as tf.Tensor4D;
  });
}

/**
 * A grouped kernel `[k, k, Cin/g, Cout]` as the dense `[k, k, Cin, Cout]` kernel of the same
 * grouped conv: block i (input channels i·Cin/g…, filters i·Cout/g…) holds group i's weights and
 * every other entry is zero, so a plain conv with it equals `groupedConv2d` (at g× the
 * multiply-adds) and passes no gradient across groups.
 */
export function blockDiagonal(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return kernel;
  const [, , cinPerGroup, cout] = kernel.shape;
  const coutPerGroup = cout / groups;
  const mask = new Float32Array(cinPerGroup * groups * cout);
  for (let i = 0; i < cinPerGroup * groups; i++) {
    const g = Math.floor(i / cinPerGroup);
    mask.fill(1, i * cout + g * coutPerGroup, i * cout + (g + 1) * coutPerGroup);
  }
  // g copies side by side along the input axis, then the mask. (Not tf.tile: it has no native kernel,
  // and its cpu fallback cost ~1.5 ms per call on a 9,216-element kernel, 7 ms per SCConv-ResNet-20 step.)
  return tf.tidy(() => tf.mul(tf.concat(Array.from({length: groups}, () => kernel), 2),
    tf.tensor4d(mask, [1, 1, cinPerGroup * groups, cout])));
}

/** Check that `groups` divides both channel counts of a grouped conv. */
export function verifyGroups(who: string, groups: number, inChannels: number, outChannels: number): void {
  expect(inChannels % groups === 0, who,
    `input channels divisible by groups=${groups} (choose groups dividing ${inChannels})`, `${inChannels} input channels`);
  expect(outChannels % groups === 0, who,
    `filters divisible by groups=${groups} (choose groups dividing ${outChannels})`, `${outChannels} filters`);
}

export declare interface GroupedConv2DLayerArgs extends LayerArgs {
  /** Number of output channels; must be divisible by `groups`. Required. */
  filters: number;
  /** Number of groups g; must divide the input channels and `filters`. Defaults to 2. */
  groups?: number;
  /** Odd square kernel size; padding is 'same'. Defaults to 3. */
  kernelSize?: number;
  /** Stride, 1 or 2. Defaults to 1. */
  strides?: number;
  /** Whether to add a per-filter bias. Defaults to false. */
  useBias?: boolean;
}

/** Grouped 2-D convolution layer, NHWC, 'same' padding. */
export class GroupedConv2D extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SCConvGroupedConv2D';
  readonly filters: number;
  readonly groups: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly useBias: boolean;
  kernel?: tf.LayerVariable;
  bias?: tf.LayerVariable;

  constructor(args: GroupedConv2DLayerArgs) {
    super(args);
    ({filters: this.filters, kernelSize: this.kernelSize, strides: this.strides} = convSlotOptions('GroupedConv2D', args));
    this.groups = args.groups == null ? 2 : args.groups;
    this.useBias = args.useBias == null ? false : args.useBias;
    expectPositiveInt(this.groups, 'GroupedConv2D', 'groups');
    expect(this.filters % this.groups === 0, 'GroupedConv2D',
      `filters divisible by groups=${this.groups}`, this.filters);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = channelsOf(singleShape(inputShape), 'GroupedConv2D');
    this.checkInputChannels(c);
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, c / this.groups, this.filters], 'float32', kernelInit());
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  checkInputChannels(channels: number): void {
    verifyGroups('GroupedConv2D', this.groups, channels, this.filters);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const y = groupedConv2d(singleInput(inputs), this.kernel!.read() as tf.Tensor4D, this.groups, this.strides);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return convOutputShape(inputShape, this.strides, this.filters);
  }

  /** Multiply-accumulates for one image: H'·W'·k²·(Cin/g)·Cout. */
  macs(inputShape: Shape): number {
    const [, h, w] = this.computeOutputShape(inputShape) as number[];
    return convMacs(h * w, this.kernelSize, (inputShape[3] as number) / this.groups, this.filters);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters, groups: this.groups, kernelSize: this.kernelSize, strides: this.strides,
      useBias: this.useBias,
    };
    Object.assign(config, super.getConfig());
    return config;
  }
}
tf.serialization.registerClass(GroupedConv2D);
