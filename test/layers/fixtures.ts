/** Load the golden SCConv fixtures written by scripts/make_fixtures.py (NCHW, PyTorch names). */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { SCConv, SCConvLayerArgs, TorchStateDict } from '../../src/index';

export interface Fixture {
  name: string;
  /** 'spread': the original configuration spread; 'floored': r divides neither part (issue 15). */
  set: 'spread' | 'floored';
  config: Record<string, number | string>;
  stateDict: TorchStateDict;
  input: tf.Tensor4D;  // NHWC
  output: tf.Tensor4D;  // NHWC
}

export interface Packed { shape: number[], data: string }

/** A base64 float32 tensor as shape + data. */
export function unpack(p: Packed): {shape: number[], data: Float32Array} {
  const bytes = Buffer.from(p.data, 'base64');
  return {shape: p.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))};
}

/** A packed NCHW tensor as an NHWC tfjs tensor. */
export const nchwToNhwc = (p: Packed): tf.Tensor4D => tf.tidy(() => {
  const {shape, data} = unpack(p);
  return tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]);
});

/** All fixtures; tensors are NHWC (the caller disposes them). */
export function loadFixtures(): Fixture[] {
  const file = JSON.parse(readFileSync(new URL('../fixtures/scconv_parity.json', import.meta.url), 'utf8'));
  return file.fixtures.map((f: {name: string, set: Fixture['set'], config: Fixture['config'], state_dict: Record<string, Packed>,
      input: Packed, output: Packed}) => ({
    name: f.name,
    set: f.set,
    config: f.config,
    stateDict: Object.fromEntries(Object.entries(f.state_dict).map(([k, v]) => [k, unpack(v)])),
    input: nchwToNhwc(f.input),
    output: nchwToNhwc(f.output),
  }));
}

/** The reference's Python keyword arguments → this library's SCConv options. */
export function scconvArgs(config: Fixture['config']): SCConvLayerArgs {
  const c = config as Record<string, never>;
  return {
    groupNum: c.group_num, threshold: c.gate_threshold, alpha: c.alpha, squeezeRatio: c.squeeze_ratio,
    groups: c.groups, kernelSize: c.kernel_size, gate: c.gate, fusion: c.fusion,
  };
}

/** max |a − b| / max |b|. */
export function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
}

/** A built SCConv holding a fixture's weights. */
export function loadedLayer(f: Fixture, fromTorch: (l: SCConv, sd: TorchStateDict) => void): SCConv {
  const layer = new SCConv(scconvArgs(f.config));
  tf.dispose(layer.apply(f.input) as tf.Tensor);
  fromTorch(layer, f.stateDict);
  return layer;
}
