/**
 * Load a PyTorch SCConv state dict into a built `SCConv` layer, so weights trained in PyTorch
 * (with the widely used unofficial code or ../shared/reference/scconv_reference.py) run here.
 * For whole models see `modelFromTorchStateDict` (torch_model.ts); for the format, torch_tensor.ts.
 */
import { show, ValueError } from '../errors';
import { SCConv } from '../layers/scconv';
import { assignTorchParams, torchParams } from './torch_params';
import type { TorchStateDict } from './torch_tensor';

export interface FromTorchOptions {
  /** Prefix of the SCConv's entries in a whole-model state dict, e.g. 'layer1.0.conv2.'. Defaults to ''. */
  prefix?: string;
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
  const params = torchParams(layer, prefix);
  const expected = new Set(params.map((p) => p.key));
  const extra = Object.keys(stateDict).filter((k) => k.startsWith(prefix) && !expected.has(k));
  assignTorchParams('fromTorchStateDict', params, stateDict, extra);
}
