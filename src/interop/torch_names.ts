/**
 * Which PyTorch module each layer of a `createResNet` model corresponds to.
 *
 *   tfjs layer            'akamaster'               'bench'
 *   stem_conv, stem_bn    conv1, bn1                stem.0, stem.1
 *   sSbB_conv1 … _bn2     layerS.(B−1).conv1 …      layers.i.c1, b1, c2, b2   (i = (S−1)·n + B−1)
 *   sSbB_shortcut_conv    layerS.(B−1).shortcut.0   layers.i.sc.0
 *   sSbB_shortcut_bn      layerS.(B−1).shortcut.1   layers.i.sc.1
 *   fc                    linear                    fc
 *
 * 'akamaster' is akamaster/pytorch_resnet_cifar10 (the most used PyTorch CIFAR ResNet);
 * 'bench' is ../shared/bench/torch_resnet_bench.py. Anything else: a name map
 * `{tfjsLayerName: 'pytorch.module'}` or a function returning the module name.
 */
import type * as tf from '@tensorflow/tfjs';
import { show, ValueError } from '../errors';

export const TORCH_NAMINGS = ['akamaster', 'bench'] as const;
export type TorchNaming = (typeof TORCH_NAMINGS)[number] | Record<string, string> | ((layerName: string) => string | undefined);

const BLOCK = /^s(\d+)b(\d+)_(conv1|bn1|conv2|bn2|shortcut_conv|shortcut_bn)$/;
const PARTS: Record<string, [string, string]> = {
  conv1: ['conv1', 'c1'], bn1: ['bn1', 'b1'], conv2: ['conv2', 'c2'], bn2: ['bn2', 'b2'],
  shortcut_conv: ['shortcut.0', 'sc.0'], shortcut_bn: ['shortcut.1', 'sc.1'],
};
const FIXED: Record<string, [string, string]> = {stem_conv: ['conv1', 'stem.0'], stem_bn: ['bn1', 'stem.1'], fc: ['linear', 'fc']};

/** The module name of `layerName` in a built-in scheme (n = blocks per stage), or undefined. */
function builtIn(layerName: string, scheme: (typeof TORCH_NAMINGS)[number], n: number): string | undefined {
  const which = scheme === 'akamaster' ? 0 : 1;
  if (layerName in FIXED) return FIXED[layerName][which];
  const m = BLOCK.exec(layerName);
  if (!m) return undefined;
  const [stage, block, part] = [Number(m[1]), Number(m[2]), m[3]];
  return which === 0 ? `layer${stage}.${block - 1}.${PARTS[part][0]}` : `layers.${(stage - 1) * n + block - 1}.${PARTS[part][1]}`;
}

/**
 * PyTorch module name (no trailing dot) of every layer of `model` that has weights, in layer
 * order. A layer the naming does not cover is a ValueError naming it.
 */
export function torchModuleNames(model: tf.LayersModel, naming: TorchNaming, who = 'torchModuleNames'): Map<string, string> {
  const blocksPerStage = model.layers.filter((l) => /^s1b\d+_conv1$/.test(l.name)).length;
  const lookup = typeof naming === 'function' ? naming
    : typeof naming === 'string' ? (name: string) => builtIn(name, naming, blocksPerStage)
    : (name: string) => (Object.prototype.hasOwnProperty.call(naming, name) ? naming[name] : undefined);
  if (typeof naming === 'string' && !(TORCH_NAMINGS as readonly string[]).includes(naming)) {
    throw new ValueError(`${who} expects names to be one of ${TORCH_NAMINGS.map((s) => `'${s}'`).join(', ')} ` +
      `or a name map {tfjsLayerName: 'pytorch.module'}, but received ${show(naming)}.`);
  }
  const names = new Map<string, string>();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const module = lookup(layer.name);
    if (module == null) {
      throw new ValueError(`${who} expects a PyTorch module name for layer ${show(layer.name)}, but ` +
        (typeof naming === 'string' ? `naming '${naming}' knows only the layers createResNet builds (stem_conv, ` +
          `s1b1_conv1, …, fc); pass a name map {${show(layer.name)}: 'pytorch.module', …} instead.`
          : `the name map has none; add ${show(layer.name)} to it.`));
    }
    names.set(layer.name, module);
  }
  return names;
}
