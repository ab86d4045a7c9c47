/**
 * CIFAR ResNet (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
 * Sec. 4.2; arXiv:1512.03385) with a pluggable 3×3 convolution, timm style: one builder, and the
 * conv is picked by name through `createConv` ('standard' | 'scconv' | 'ghost' | 'octave').
 *
 * Layout (depth = 6n + 2): 3×3 conv (16) → three stages of n BasicBlocks with 16, 32, 64 channels
 * (`width` scales these; tests use narrow nets)
 * (the first block of stages 2 and 3 has stride 2) → global average pool → dense(10).
 *
 * Complexity convention (reproduces the SCConv paper's Table 2, see test/models/complexity.test.ts
 * and the README): shortcut 'B' (1×1 projection + BN where the shape changes), params = all
 * trainable weights, FLOPs counted the way PyTorch-OpCounter (thop) counts them: conv/dense
 * multiply-accumulates plus 2 per BatchNorm output element.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { createConv, CONV_KINDS, type ConvKind } from '../layers/create_conv';
import type { SCConvLayerArgs } from '../layers/scconv';
import { seedKernels } from './init';
import { ZeroPadShortcut } from './shortcut';

export const PLACEMENTS = ['second', 'both'] as const;
export const SHORTCUTS = ['A', 'B'] as const;
export const STRIDE_PADDINGS = ['tf', 'torch'] as const;
export type Placement = (typeof PLACEMENTS)[number];
export type Shortcut = (typeof SHORTCUTS)[number];
export type StridePadding = (typeof STRIDE_PADDINGS)[number];

export interface ResNetArgs {
  /** 6n + 2: 20, 32, 44, 56, 110, … (8 is the smallest, handy for tests). Defaults to 20. */
  depth?: number;
  /** Which 3×3 conv the blocks use. The stem is always a standard conv. Defaults to 'standard'. */
  conv?: ConvKind;
  /**
   * Which block convs are replaced. 'second': the stride-1, same-channel conv of every block (the
   * SCConv paper's SCConv-ResNet); 'both': also the first, through the layer's channel/stride
   * adapter where a block changes shape. Defaults to 'second'.
   */
  placement?: Placement;
  /** 'A': zero-padding identity (parameter-free); 'B': 1×1 projection + BN. Defaults to 'B'. */
  shortcut?: Shortcut;
  /** SCConv options (α, r, g, threshold, gate, fusion, parts: the ablation variant …) passed to every SCConv. */
  scconv?: Partial<SCConvLayerArgs>;
  /**
   * How the stride-2 3×3 convs pad. 'tf': 'same' (TensorFlow pads an even input 0 rows before and
   * 1 after); 'torch': 1 on each side, as PyTorch's `padding=1`, through a zero-padding layer
   * `<block>_pad1` and a 'valid' conv. The two see the image shifted by one pixel, so weights carry
   * over between PyTorch and here (src/interop/) only with 'torch'. Defaults to 'tf' (the models
   * trained here so far).
   */
  stridePadding?: StridePadding;
  /** Channels of the first stage; the stages have width, 2·width, 4·width. Defaults to 16 (the paper's). */
  width?: number;
  /** Defaults to 10. */
  numClasses?: number;
  /** Defaults to [32, 32, 3] (NHWC). */
  inputShape?: [number, number, number];
  /** When given, conv/dense kernels are drawn He-normal from this seed (see `seedKernels`). */
  seed?: number;
  /** Model name. Defaults to `resnet{depth}_{conv}`. */
  name?: string;
}

/**
 * BatchNorm with PyTorch's defaults (momentum 0.1 there = 0.9 here, ε = 1e-5).
 * Porting note: tfjs updates the moving variance with the biased batch variance, PyTorch's
 * running_var with the unbiased one (×n/(n−1), 1.008 at batch 128): evaluation differs slightly.
 */
function batchNorm(name: string) {
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name });
}

/** Build a CIFAR ResNet as a functional `tf.LayersModel` taking NHWC images and returning logits. */
export function createResNet(args: ResNetArgs = {}): tf.LayersModel {
  const depth = args.depth ?? 20;
  const conv = args.conv ?? 'standard';
  const placement = args.placement ?? 'second';
  const shortcut = args.shortcut ?? 'B';
  expect(Number.isInteger(depth) && depth >= 8 && (depth - 2) % 6 === 0, 'createResNet', 'depth = 6n + 2 with n >= 1 (20, 32, 44, 56, 110)', depth);
  expect(CONV_KINDS.includes(conv), 'createResNet', `conv one of ${CONV_KINDS.join(', ')}`, conv);
  expect(PLACEMENTS.includes(placement), 'createResNet', `placement one of ${PLACEMENTS.join(', ')}`, placement);
  expect(SHORTCUTS.includes(shortcut), 'createResNet', `shortcut one of ${SHORTCUTS.join(', ')}`, shortcut);
  const stridePadding = args.stridePadding ?? 'tf';
  expect(STRIDE_PADDINGS.includes(stridePadding), 'createResNet', `stridePadding one of ${STRIDE_PADDINGS.join(', ')}`, stridePadding);
  const width = args.width ?? 16;
  expect(Number.isInteger(width) && width > 0, 'createResNet', 'width a positive integer (16 in the paper)', width);
  const n = (depth - 2) / 6;

  const input = tf.input({ shape: args.inputShape ?? [32, 32, 3], name: 'images' });
  let x = createConv('standard', { inChannels: 3, filters: width, name: 'stem_conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu' }).apply(batchNorm('stem_bn').apply(x)) as tf.SymbolicTensor;

  let cin = width;
  [width, 2 * width, 4 * width].forEach((cout, stage) => {
    for (let i = 0; i < n; i++) {
      const strides = stage > 0 && i === 0 ? 2 : 1;
      const p = `s${stage + 1}b${i + 1}_`;
      // conv1 may change shape (stride 2, cin → cout); conv2 never does.
      const kind1 = placement === 'both' ? conv : 'standard';
      // (SCConv's adapter strides a 1×1 conv, which pads nothing in either framework.)
      const torchPad = stridePadding === 'torch' && strides === 2 && kind1 === 'standard';
      const x1 = torchPad ? tf.layers.zeroPadding2d({ padding: 1, name: p + 'pad1' }).apply(x) as tf.SymbolicTensor : x;
      let y = createConv(kind1, {
        inChannels: cin, filters: cout, strides, name: p + 'conv1', scconv: args.scconv, padding: torchPad ? 'valid' : 'same',
      }).apply(x1) as tf.SymbolicTensor;
      y = tf.layers.reLU({ name: p + 'relu1' }).apply(batchNorm(p + 'bn1').apply(y)) as tf.SymbolicTensor;
      y = createConv(conv, { inChannels: cout, filters: cout, name: p + 'conv2', scconv: args.scconv }).apply(y) as tf.SymbolicTensor;
      y = batchNorm(p + 'bn2').apply(y) as tf.SymbolicTensor;
      let s = x;
      if (strides !== 1 || cin !== cout) {
        s = shortcut === 'A'
          ? (new ZeroPadShortcut({ filters: cout, strides, name: p + 'shortcut' }).apply(x) as tf.SymbolicTensor)
          : (batchNorm(p + 'shortcut_bn').apply(
              tf.layers.conv2d({ filters: cout, kernelSize: 1, strides, useBias: false, name: p + 'shortcut_conv' }).apply(x),
            ) as tf.SymbolicTensor);
      }
      x = tf.layers.reLU({ name: p + 'relu2' }).apply(tf.layers.add({ name: p + 'add' }).apply([y, s])) as tf.SymbolicTensor;
      cin = cout;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: args.numClasses ?? 10, name: 'fc' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits, name: args.name ?? `resnet${depth}_${conv}` });
  if (args.seed != null) seedKernels(model, args.seed);
  return model;
}
