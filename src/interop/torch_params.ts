/**
 * A tfjs layer's weights under their PyTorch names, and copying a state dict into them
 * all-or-nothing (every entry present with its shape, no unexpected ones, else nothing is written).
 *
 *   Conv2D              weight (OIHW), bias
 *   Dense               weight (out, in), bias                      (PyTorch's nn.Linear)
 *   BatchNormalization  weight = γ, bias = β, running_mean, running_var (+ num_batches_tracked,
 *                       a step counter tfjs does not keep: see `BATCHES_TRACKED`)
 *   SCConv              SRU.gn.weight, SRU.gn.bias, CRU.squeeze1.weight, CRU.squeeze2.weight,
 *                       CRU.GWC.weight, CRU.GWC.bias, CRU.PWC1.weight, CRU.PWC2.weight (the
 *                       unofficial code's names), and proj.weight for this library's channel/stride
 *                       adapter (a 1×1 conv, not in PyTorch SCConv)
 */
import * as tf from '@tensorflow/tfjs';
import { show, ValueError } from '../errors';
import { SCConv } from '../layers/scconv';
import { fromTorchTensor, TorchLayout, TorchStateDict, torchShape } from './torch_tensor';

/** One weight: its full PyTorch name, the tfjs variable and how the layouts differ. */
export interface TorchParam {
  key: string;
  variable: tf.LayerVariable;
  layout: TorchLayout;
}

/** BatchNorm's PyTorch buffer that counts training steps; tfjs has no counterpart. */
export const BATCHES_TRACKED = 'num_batches_tracked';

function scconvParams(layer: SCConv): [string, tf.LayerVariable, TorchLayout][] {
  const {sru, cru} = layer;
  const list: [string, tf.LayerVariable, TorchLayout][] = [
    ['SRU.gn.weight', sru.gamma!, 'vector'],
    ['SRU.gn.bias', sru.beta!, 'vector'],
    ['CRU.squeeze1.weight', cru.squeeze1!, 'conv'],
    ['CRU.squeeze2.weight', cru.squeeze2!, 'conv'],
    ['CRU.GWC.weight', cru.gwcKernel!, 'conv'],
    ['CRU.GWC.bias', cru.gwcBias!, 'vector'],
    ['CRU.PWC1.weight', cru.pwc1!, 'conv'],
    ['CRU.PWC2.weight', cru.pwc2!, 'conv'],
  ];
  if (layer.projection) list.push(['proj.weight', layer.projection, 'conv']);
  return list;
}

/** The layer's weight whose tfjs name ends in `/${name}`. */
function weightNamed(layer: tf.layers.Layer, name: string): tf.LayerVariable | undefined {
  return layer.weights.find((w) => w.originalName.endsWith(`/${name}`));
}

const STOCK: Record<string, [string, string, TorchLayout][]> = {
  Conv2D: [['weight', 'kernel', 'conv'], ['bias', 'bias', 'vector']],
  Dense: [['weight', 'kernel', 'linear'], ['bias', 'bias', 'vector']],
  BatchNormalization: [['weight', 'gamma', 'vector'], ['bias', 'beta', 'vector'],
    ['running_mean', 'moving_mean', 'vector'], ['running_var', 'moving_variance', 'vector']],
};

/**
 * The weights of one built layer as PyTorch entries under module `prefix` (e.g. 'layer1.0.conv2.',
 * with its trailing dot; '' for the layer itself). A layer without weights has none; a layer
 * with weights of a kind PyTorch interop does not know is a ValueError naming it.
 */
export function torchParams(layer: tf.layers.Layer, prefix: string): TorchParam[] {
  if (layer instanceof SCConv) {
    return scconvParams(layer).map(([name, variable, layout]) => ({key: prefix + name, variable, layout}));
  }
  if (layer.weights.length === 0) return [];
  const stock = STOCK[layer.getClassName()];
  if (!stock) {
    throw new ValueError(`PyTorch interop expects layers of the kinds ${[...Object.keys(STOCK), 'SCConv'].join(', ')} ` +
      `(or without weights), but received layer ${show(layer.name)} of class ${layer.getClassName()}.`);
  }
  return stock.flatMap(([name, tfName, layout]) => {
    const variable = weightNamed(layer, tfName);
    return variable ? [{key: prefix + name, variable, layout}] : [];  // a bias only where the layer has one
  });
}

/**
 * Copy `stateDict[p.key]` into every `p.variable` (PyTorch layout → tfjs). `who` starts the error
 * messages; `unexpected` are the state dict's names that belong to nothing (an error if any).
 */
export function assignTorchParams(who: string, params: TorchParam[], stateDict: TorchStateDict, unexpected: string[]): void {
  if (unexpected.length > 0) {
    throw new ValueError(`${who} expects only the names ${params.map((p) => p.key).join(', ')}, ` +
      `but received unexpected ${unexpected.map((k) => JSON.stringify(k)).join(', ')}.`);
  }
  const values = params.map(({key, variable, layout}) => {
    const entry = stateDict[key];
    if (entry == null) {
      throw new ValueError(`${who} expects an entry ${JSON.stringify(key)} in the state dict, but it is missing.`);
    }
    const want = torchShape(variable.shape as number[], layout);
    if (show(entry.shape) !== show(want)) {
      throw new ValueError(`${who} expects ${JSON.stringify(key)} to have shape ${show(want)} ` +
        `(PyTorch order) for this layer, but received shape ${show(entry.shape)}.`);
    }
    const size = want.reduce((a, b) => a * b, 1);
    if (entry.data.length !== size) {
      throw new ValueError(`${who} expects ${size} values for ${JSON.stringify(key)} ` +
        `(shape ${show(want)}), but received ${entry.data.length}.`);
    }
    return entry;
  });
  const tensors = values.map((entry, i) => fromTorchTensor(entry, params[i].layout));
  params.forEach(({variable}, i) => variable.write(tensors[i]));
  tf.dispose(tensors);
}
