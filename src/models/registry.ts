/**
 * Named models, timm style: each entry is a small args object handed to one builder, and
 * `createModel(name, overrides)` is the single entry point (undefined overrides keep the defaults).
 */
import type * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors';
import { createResNet, type ResNetArgs } from './resnet';

const MODELS = new Map<string, ResNetArgs>();

/** Register `name` → builder args. A second registration of the same name replaces the first, with a warning. */
export function registerModel(name: string, args: ResNetArgs): void {
  if (MODELS.has(name)) console.warn(`registerModel: replacing the model '${name}'.`);
  MODELS.set(name, args);
}

/** Names of the registered models, sorted. */
export function listModels(): string[] {
  return [...MODELS.keys()].sort();
}

/** The builder args registered under `name` (a copy). */
export function modelArgs(name: string): ResNetArgs {
  const args = MODELS.get(name);
  if (!args) throw new ValueError(`createModel expects one of ${listModels().join(', ')}, but received ${JSON.stringify(name)}.`);
  return { ...args };
}

/** Build a registered model, e.g. `createModel('resnet56_scconv', { seed: 0 })`. */
export function createModel(name: string, overrides: Partial<ResNetArgs> = {}): tf.LayersModel {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return createResNet({ ...modelArgs(name), name, ...set });
}

// The paper's models (SCConv Table 2). Ghost replaces every block conv ('both'): GhostNet's
// Ghost-ResNet-56, whose 0.45M parameters need it; SCConv replaces the second conv of each block.
for (const depth of [20, 32, 44, 56, 110]) {
  registerModel(`resnet${depth}`, { depth, conv: 'standard' });
  registerModel(`resnet${depth}_scconv`, { depth, conv: 'scconv', placement: 'second' });
  registerModel(`resnet${depth}_ghost`, { depth, conv: 'ghost', placement: 'both' });
  registerModel(`resnet${depth}_octave`, { depth, conv: 'octave', placement: 'both' });
}
