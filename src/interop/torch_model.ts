/**
 * Whole models both ways: a PyTorch state dict (as JSON, see torch_tensor.ts) into a tfjs model,
 * and a tfjs model out to a state dict that PyTorch's `load_state_dict` takes.
 *
 *   const sd = JSON.parse(readFileSync('resnet20.json', 'utf8'));  // from scripts/torch_interop.py
 *   const model = createResNet({depth: 20, shortcut: 'A', stridePadding: 'torch'});
 *   modelFromTorchStateDict(model, sd, {names: 'akamaster'});
 *   writeFileSync('back.json', JSON.stringify(modelToTorchStateDict(model, {names: 'akamaster'})));
 *
 * BatchNorm running statistics travel with the weights. `num_batches_tracked` (PyTorch counts
 * training steps per BatchNorm; it matters only with momentum=None, a cumulative average) is
 * accepted and ignored on the way in and written on the way out. Build the tfjs ResNet with
 * `stridePadding: 'torch'`: TensorFlow's 'same' pads stride-2 convs one pixel differently.
 */
import type * as tf from '@tensorflow/tfjs';
import { BATCHES_TRACKED, assignTorchParams, TorchParam, torchParams } from './torch_params';
import { toTorchTensor, TorchStateDict } from './torch_tensor';
import { torchModuleNames, TorchNaming } from './torch_names';

export interface TorchModelOptions {
  /** 'akamaster', 'bench' or a name map (see torch_names.ts). Defaults to 'akamaster'. */
  names?: TorchNaming;
}

export interface ToTorchOptions extends TorchModelOptions {
  /** Value written for every BatchNorm's `num_batches_tracked`. Defaults to 0. */
  batchesTracked?: number;
}

/** Every weight of the model as a PyTorch entry, and the names of the BatchNorm step counters. */
function modelParams(model: tf.LayersModel, naming: TorchNaming, who: string): {params: TorchParam[], counters: string[]} {
  const modules = torchModuleNames(model, naming, who);
  const params: TorchParam[] = [];
  const counters: string[] = [];
  for (const layer of model.layers) {
    const module = modules.get(layer.name);
    if (module == null) continue;
    params.push(...torchParams(layer, `${module}.`));
    if (layer.getClassName() === 'BatchNormalization') counters.push(`${module}.${BATCHES_TRACKED}`);
  }
  return {params, counters};
}

/**
 * Copy a whole-model PyTorch state dict into `model` (built, e.g. by `createResNet`). A missing,
 * unexpected or mis-shaped entry is a ValueError naming it, and then nothing is written.
 */
export function modelFromTorchStateDict(model: tf.LayersModel, stateDict: TorchStateDict, options: TorchModelOptions = {}): void {
  const who = 'modelFromTorchStateDict';
  const {params, counters} = modelParams(model, options.names ?? 'akamaster', who);
  const known = new Set([...params.map((p) => p.key), ...counters]);
  assignTorchParams(who, params, stateDict, Object.keys(stateDict).filter((k) => !known.has(k)));
}

/** The model's weights (and BatchNorm running statistics) as a PyTorch state dict. */
export function modelToTorchStateDict(model: tf.LayersModel, options: ToTorchOptions = {}): TorchStateDict {
  const {params, counters} = modelParams(model, options.names ?? 'akamaster', 'modelToTorchStateDict');
  const stateDict: TorchStateDict = {};
  for (const {key, variable, layout} of params) stateDict[key] = toTorchTensor(variable.read(), layout);
  for (const key of counters) stateDict[key] = {shape: [], data: [options.batchesTracked ?? 0], dtype: 'int64'};
  return stateDict;
}
