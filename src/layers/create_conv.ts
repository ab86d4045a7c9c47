/**
 * Pick the 3×3 convolution of a network by name (timm's `create_conv2d` style), so that
 * "ResNet with SCConv" is a config change, not a code change.
 *
 *   'standard'  tf.layers.conv2d, no bias (BatchNorm follows)
 *   'scconv'    SCConv (SRU → CRU); with filters ≠ inChannels or strides = 2 it appends the
 *               documented 1×1 projection (see scconv.ts)
 *   'ghost'     GhostConv (ratio s = 2, depthwise d = 3)
 *   'octave'    OctaveConv (α = 0.5)
 */
import * as tf from '@tensorflow/tfjs';
import { expect, ValueError } from '../errors';
import { GhostConv } from './ghost_conv';
import { ChannelChecked, expectPositiveInt } from './layer_utils';
import { OctaveConv } from './octave_conv';
import { SCConv, SCConvLayerArgs } from './scconv';

export type ConvKind = 'standard' | 'scconv' | 'ghost' | 'octave';

export interface CreateConvArgs {
  /** Input channels (used to validate the configuration up front). Required. */
  inChannels: number;
  /** Output channels. Required. */
  filters: number;
  /** Stride, 1 or 2. Defaults to 1. */
  strides?: number;
  /** Kernel size (for 'scconv': the GWC kernel). Defaults to 3. */
  kernelSize?: number;
  /** 'same', or 'valid' for a standard conv after explicit padding (PyTorch-style stride 2). Defaults to 'same'. */
  padding?: 'same' | 'valid';
  /** Layer name. Defaults to an automatic unique name. */
  name?: string;
  /** SCConv options (groupNum, threshold, gate, epsilon, alpha, squeezeRatio, groups, fusion, parts). */
  scconv?: Partial<SCConvLayerArgs>;
}

type Factory = (a: Required<Omit<CreateConvArgs, 'name' | 'scconv' | 'padding'>> & CreateConvArgs) => tf.layers.Layer;

const CONV_LAYERS: Record<ConvKind, Factory> = {
  standard: (a) => tf.layers.conv2d({
    filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding ?? 'same', useBias: false,
    kernelInitializer: 'heNormal', name: a.name,
  }),
  scconv: (a) => new SCConv({
    ...a.scconv, kernelSize: a.scconv?.kernelSize ?? a.kernelSize, filters: a.filters, strides: a.strides, name: a.name,
  }),
  ghost: (a) => new GhostConv({filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, name: a.name}),
  octave: (a) => new OctaveConv({filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, name: a.name}),
};

/** The names `createConv` accepts. */
export const CONV_KINDS = Object.keys(CONV_LAYERS) as ConvKind[];

/**
 * Create the conv layer `kind` mapping `[N, H, W, inChannels]` to `[N, H/strides, W/strides, filters]`.
 * Unknown kinds throw a ValueError listing the valid names; channel-dependent options are
 * validated against `inChannels` right away (the layer is built when first applied).
 */
export function createConv(kind: ConvKind | string, args: CreateConvArgs): tf.layers.Layer {
  const key = typeof kind === 'string' ? kind.toLowerCase() : kind;
  if (!(key in CONV_LAYERS)) {
    throw new ValueError(`createConv expects kind to be one of ${CONV_KINDS.map((k) => `'${k}'`).join(', ')}, ` +
      `but received ${JSON.stringify(kind)}.`);
  }
  expectPositiveInt(args.inChannels, 'createConv', 'inChannels');
  expectPositiveInt(args.filters, 'createConv', 'filters');
  const full = {...args, strides: args.strides ?? 1, kernelSize: args.kernelSize ?? 3};
  expect(full.strides === 1 || full.strides === 2, 'createConv', 'strides to be 1 or 2', full.strides);
  expect(args.padding == null || args.padding === 'same' || (args.padding === 'valid' && key === 'standard'), 'createConv',
    `padding 'same' (or 'valid' for kind 'standard', which alone pads explicitly)`, args.padding);
  const layer = CONV_LAYERS[key as ConvKind](full);
  // Validate channel-dependent options now (e.g. SCConv's groupNum vs inChannels) rather than at apply().
  (layer as Partial<ChannelChecked>).checkInputChannels?.(args.inChannels);
  return layer;
}
