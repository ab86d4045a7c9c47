/**
 * Load a PyTorch SCConv state dict into a built `SCConv` layer, so weights trained in PyTorch
 * (with the widely used unofficial code or ../shared/reference/scconv_reference.py) run here.
 *
 * Format: `{name: {shape, data}}`, `data` flat in PyTorch's row-major order (what
 * `{k: {"shape": list(v.shape), "data": v.flatten().tolist()}}` writes). Conv weights are
 * OIHW in PyTorch and HWIO here; they are transposed on the way in.
 */
import * as tf from '@tensorflow/tfjs';
import { show, ValueError } from '../errors';
import { SCConv } from '../layers/scconv';

/** One PyTorch tensor: shape plus flat row-major data. */
export interface TorchTensor {
  shape: number[];
  data: ArrayLike<number>;
}
export type TorchStateDict = Record<string, TorchTensor>;

export interface FromTorchOptions {
  /** Prefix of the SCConv's entries in a whole-model state dict, e.g. 'layer1.0.conv2.'. Defaults to ''. */
  prefix?: string;
}

/** PyTorch name → the layer's variable, and whether it is a conv weight (OIHW → HWIO). */
function targets(layer: SCConv): [string, tf.LayerVariable, boolean][] {
  const {sru, cru} = layer;
  const list: [string, tf.LayerVariable, boolean][] = [
    ['SRU.gn.weight', sru.gamma!, false],
    ['SRU.gn.bias', sru.beta!, false],
    ['CRU.squeeze1.weight', cru.squeeze1!, true],
    ['CRU.squeeze2.weight', cru.squeeze2!, true],
    ['CRU.GWC.weight', cru.gwcKernel!, true],
    ['CRU.GWC.bias', cru.gwcBias!, false],
    ['CRU.PWC1.weight', cru.pwc1!, true],
    ['CRU.PWC2.weight', cru.pwc2!, true],
  ];
  // The library's channel/stride adapter (not in PyTorch SCConv): a 1×1 conv, `proj.weight`.
  if (layer.projection) list.push(['proj.weight', layer.projection, true]);
  return list;
}

/** The PyTorch shape that maps onto an HWIO (or 1-D) variable shape. */
function torchShape(shape: number[], isConv: boolean): number[] {
  return isConv ? [shape[3], shape[2], shape[0], shape[1]] : shape;
}

/**
 * Copy a PyTorch SCConv state dict into `layer` (which must be built). Every expected name must
 * be present with the expected shape and no unexpected `prefix`ed names may remain; otherwise a
 * ValueError names the entry, its shape and the expected one. Nothing is written unless all match.
 */
export function fromTorchStateDict(layer: SCConv, stateDict: TorchStateDict, options: FromTorchOptions = {}): void {
  const prefix = options.prefix ?? '';
  if (!(layer instanceof SCConv) || !layer.built) {
    throw new ValueError(`fromTorchStateDict expects a built SCConv layer (apply it to an input first), ` +
      `but received ${layer instanceof SCConv ? 'an unbuilt SCConv' : show((layer as object)?.constructor?.name)}.`);
  }
  const list = targets(layer);
  const expected = new Set(list.map(([name]) => prefix + name));
  const extra = Object.keys(stateDict).filter((k) => k.startsWith(prefix) && !expected.has(k));
  if (extra.length > 0) {
    throw new ValueError(`fromTorchStateDict expects only the names ${[...expected].join(', ')}, ` +
      `but received unexpected ${extra.map((k) => JSON.stringify(k)).join(', ')}.`);
  }
  const values = list.map(([name, variable, isConv]) => {
    const key = prefix + name;
    const entry = stateDict[key];
    if (entry == null) {
      throw new ValueError(`fromTorchStateDict expects an entry ${JSON.stringify(key)} in the state dict, but it is missing.`);
    }
    const want = torchShape(variable.shape as number[], isConv);
    if (show(entry.shape) !== show(want)) {
      throw new ValueError(`fromTorchStateDict expects ${JSON.stringify(key)} to have shape ${show(want)} ` +
        `(PyTorch order) for this layer, but received shape ${show(entry.shape)}.`);
    }
    const size = want.reduce((a, b) => a * b, 1);
    if (entry.data.length !== size) {
      throw new ValueError(`fromTorchStateDict expects ${size} values for ${JSON.stringify(key)} ` +
        `(shape ${show(want)}), but received ${entry.data.length}.`);
    }
    return tf.tidy(() => {
      const t = tf.tensor(Array.from(entry.data), want, 'float32');
      return isConv ? tf.transpose(t, [2, 3, 1, 0]) : t;  // OIHW → HWIO
    });
  });
  list.forEach(([, variable], i) => variable.write(values[i]));
  tf.dispose(values);
}
