/**
 * TrainConfig: one flat, typed object that fully describes a training run. It is written to
 * `config.json` and into every checkpoint, and `--resume` rebuilds the run from it.
 *
 * Defaults are the SCConv paper's CIFAR recipe (Sec. 4.1): SGD momentum 0.9, weight decay 5e-4,
 * lr 0.05, ×0.1 at 50% and 75% of 200 epochs, batch 128.
 */
import { ValueError } from '../errors';
import { SCCONV_PARTS, type SCConvParts } from '../layers/scconv';

export interface TrainConfig {
  // model -------------------------------------------------------------------------------
  depth: number; // 6n + 2 (20, 32, 44, 56, 110); 8 for tests
  width: number; // channels of stage 1 (stages: w, 2w, 4w); 16 in the paper, 4 in tests
  conv: 'standard' | 'scconv' | 'ghost' | 'octave'; // the pluggable 3×3 conv
  placement: 'second' | 'both'; // which block convs are replaced ('second' = the paper's)
  shortcut: 'A' | 'B'; // 'A' zero-padding identity, 'B' 1×1 projection + BN (Table 2 counts)
  alpha: number; // CRU split ratio α (Eq. 5)
  gate: 'soft' | 'hard'; // SRU gate: paper text ('soft') or the blog's binary masks ('hard')
  fusion: 'pairwise' | 'global'; // CRU β: Eq. 6 per channel pair, or softmax over all 2C channels
  threshold: number; // SRU gate threshold (Eq. 3)
  scconvParts: SCConvParts; // ablation variant: 'sru-cru' (SCConv), 'sru', 'cru', 'cru-sru', 'parallel'
  scconvRecompute: boolean; // SCConv keeps only its input and recomputes SRU/CRU in the backward pass (less memory, more time)
  // data --------------------------------------------------------------------------------
  data: string; // CIFAR-10 folder or .tar.gz; '' = $SCCONV_DATA, then data/ cache, then download
  maxTrain: number; // train on the first N images (0 = all 50,000): quick runs
  maxTest: number; // evaluate on the first N test images (0 = all 10,000)
  augment: boolean; // random crop (pad 4) + horizontal flip
  // optimisation ------------------------------------------------------------------------
  epochs: number; // 200 in the paper
  batch: number;
  lr: number; // 0.05 in the paper (the seed blog uses 0.1)
  momentum: number; // PyTorch-style: v = μv + g; w -= lr·v
  weightDecay: number; // coupled L2, added to the gradient like torch.optim.SGD
  decay: 'kernels' | 'all'; // which weights decay: conv/dense kernels, or every weight like PyTorch
  schedule: 'step' | 'cosine'; // step: ×0.1 at 50% and 75% of the epochs; cosine: to 0 over the run
  seed: number; // initial weights and every epoch's batches depend only on this
  // seed-blog tips ----------------------------------------------------------------------
  thresholdWarmup: boolean; // SRU threshold = min(0.5, 0.3 + 0.2·epoch/epochs) instead of `threshold`
  sruOffEpochs: number; // SRU is the identity for the first N epochs
  standardEpochs: number; // train standard convs for N epochs, then switch to `conv` to fine-tune
  betaBatch: number; // test images used to log the CRU β means each epoch (0 = off)
  snapshots: boolean; // append SRU/CRU snapshots on 4 test images to RUN/snapshots.jsonl each epoch
  // run ---------------------------------------------------------------------------------
  out: string; // run folder; '' = runs/resnet{depth}_{conv}_seed{seed} (conv scconv-{parts} for an ablation variant)
  budgetMinutes: number; // stop before overrunning this many minutes of this invocation (0 = none)
  backend: string; // tfjs backend the CLI asks initBackend for ('' = fastest available)
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  depth: 20, width: 16, conv: 'scconv', placement: 'second', shortcut: 'B',
  alpha: 0.5, gate: 'soft', fusion: 'pairwise', threshold: 0.5, scconvParts: 'sru-cru', scconvRecompute: false,
  data: '', maxTrain: 0, maxTest: 0, augment: true,
  epochs: 200, batch: 128, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, decay: 'kernels', schedule: 'step', seed: 0,
  thresholdWarmup: false, sruOffEpochs: 0, standardEpochs: 0, betaBatch: 64, snapshots: true,
  out: '', budgetMinutes: 0, backend: '',
});

/** How each key is checked (and, in the CLI, parsed). */
export type FieldSpec = { help: string } & (
  | { type: 'int'; min: number; max?: number; check?: (v: number) => boolean; valid?: string }
  | { type: 'float'; min: number; max?: number; open?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'string' });

export const CONFIG_SPEC: { readonly [K in keyof TrainConfig]: FieldSpec } = {
  // Upper bounds catch typos (an extra zero) before a run allocates or plans the impossible:
  // depth 1202 is the deepest CIFAR ResNet (He et al. 2016, n = 200); width 256 gives 1024 channels
  // in stage 3, 16x the paper's; a batch of 4096 already needs GBs of activations at width 16;
  // 10,000 epochs is 50x the paper's 200; maxTrain/maxTest/betaBatch cannot exceed CIFAR-10's
  // 50,000 / 10,000 images; seeds are keyed as safe integers (Rng); lr < 10 and weight decay <= 1
  // are far above any recipe; a budget of one week is longer than any run here.
  depth: { type: 'int', help: "layers of the CIFAR ResNet", min: 8, max: 1202, check: (v) => (v - 2) % 6 === 0, valid: '6n + 2 between 8 and 1202 (8, 20, 32, 44, 56, 110)' },
  width: { type: 'int', help: "stage-1 channels; stages have w, 2w, 4w (16 in the paper)", min: 1, max: 256 },
  conv: { type: 'enum', help: "the block 3x3 conv", values: ['standard', 'scconv', 'ghost', 'octave'] },
  placement: { type: 'enum', help: "'second': SCConv in each block's 2nd conv (the paper); 'both': also the 1st", values: ['second', 'both'] },
  shortcut: { type: 'enum', help: "'A' zero-padding identity, 'B' 1x1 projection + BN (Table 2 counts)", values: ['A', 'B'] },
  alpha: { type: 'float', help: "CRU split ratio alpha (Eq. 5)", min: 0, max: 1, open: true },
  gate: { type: 'enum', help: "SRU gate: paper text ('soft') or the blog's binary masks ('hard')", values: ['soft', 'hard'] },
  fusion: { type: 'enum', help: "CRU beta: Eq. 6 per channel pair, or softmax over all 2C channels", values: ['pairwise', 'global'] },
  threshold: { type: 'float', help: "SRU gate threshold (Eq. 3)", min: 0, max: 1, open: true },
  scconvParts: { type: 'enum', help: "ablation (Table 1 pattern): sru-cru = SCConv; sru = SRU + 3x3 conv; cru = CRU alone; cru-sru; parallel = SRU(x) + CRU(x)", values: SCCONV_PARTS },
  scconvRecompute: { type: 'bool', help: "SCConv keeps only its input and recomputes SRU/CRU in the backward pass: less memory, more time (docs/performance.md)" },
  data: { type: 'string', help: "CIFAR-10 folder or .tar.gz ('' = $SCCONV_DATA, then data/, then download)" },
  maxTrain: { type: 'int', help: "train on the first N images (0 = all 50,000)", min: 0, max: 50000 },
  maxTest: { type: 'int', help: "evaluate on the first N test images (0 = all 10,000)", min: 0, max: 10000 },
  augment: { type: 'bool', help: "random crop (pad 4) + horizontal flip" },
  epochs: { type: 'int', help: "200 in the paper", min: 1, max: 10000 },
  batch: { type: 'int', help: "images per step", min: 1, max: 4096 },
  lr: { type: 'float', help: "0.05 in the paper (the seed blog uses 0.1)", min: 0, max: 10, open: true },
  momentum: { type: 'float', help: "PyTorch-style: v = mu*v + g; w -= lr*v", min: 0, max: 1 },
  weightDecay: { type: 'float', help: "coupled L2 added to the gradient, like torch.optim.SGD", min: 0, max: 1 },
  decay: { type: 'enum', help: "which weights decay: conv/dense kernels, or all (PyTorch's default)", values: ['kernels', 'all'] },
  schedule: { type: 'enum', help: "step: x0.1 at 50% and 75% of the epochs; cosine: to 0", values: ['step', 'cosine'] },
  seed: { type: 'int', help: "initial weights and every epoch's batches depend only on it", min: 0, max: Number.MAX_SAFE_INTEGER },
  thresholdWarmup: { type: 'bool', help: "SRU threshold = min(0.5, 0.3 + 0.2*epoch/epochs)" },
  sruOffEpochs: { type: 'int', help: "SRU is the identity for the first N epochs", min: 0, max: 10000 },
  standardEpochs: { type: 'int', help: "standard convs for N epochs, then switch to --conv", min: 0, max: 10000 },
  betaBatch: { type: 'int', help: "test images for the per-epoch CRU beta means (0 = off)", min: 0, max: 10000 },
  snapshots: { type: 'bool', help: "per epoch, SRU gamma/masks and CRU betas on 4 test images into RUN/snapshots.jsonl" },
  out: { type: 'string', help: "run folder ('' = runs/resnet{depth}_{conv}_seed{seed}; conv reads scconv-{parts} for a variant)" },
  budgetMinutes: { type: 'float', help: "stop before an epoch or batch would overrun (0 = none)", min: 0, max: 10080 },
  backend: { type: 'string', help: "tfjs backend for initBackend: node-gpu, node, webgpu, native, cpu ('' = fastest)" },
};

/** "an integer >= 1", "one of step, cosine", … : the valid values of a key, for error messages. */
export function describeSpec(spec: FieldSpec): string {
  switch (spec.type) {
    case 'int': return spec.valid ?? `an integer >= ${spec.min}${spec.max == null ? '' : ` and <= ${spec.max}`}`;
    case 'float': return spec.max == null ? `a number ${spec.open ? '>' : '>='} ${spec.min}` : `a number in ${spec.open ? '(' : '['}${spec.min}, ${spec.max}${spec.open ? ')' : ']'}`;
    case 'enum': return `one of ${spec.values.join(', ')}`;
    case 'bool': return 'true or false';
    case 'string': return 'a string';
  }
}

function valid(spec: FieldSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'int': return Number.isInteger(v) && (v as number) >= spec.min && (spec.max == null || (v as number) <= spec.max) && (!spec.check || spec.check(v as number));
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      const above = spec.open ? v > spec.min : v >= spec.min;
      const below = spec.max == null || (spec.open ? v < spec.max : v <= spec.max);
      return above && below;
    }
    case 'enum': return spec.values.includes(v as string);
    case 'bool': return typeof v === 'boolean';
    case 'string': return typeof v === 'string';
  }
}

/** Defaults merged with `overrides` (undefined values ignored), every key checked; unknown keys are an error. */
export function resolveConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const keys = Object.keys(CONFIG_SPEC) as (keyof TrainConfig)[];
  for (const k of Object.keys(overrides)) {
    if (!(k in CONFIG_SPEC)) throw new ValueError(`TrainConfig expects keys among ${keys.join(', ')}, but received ${JSON.stringify(k)}.`);
  }
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config = { ...DEFAULT_CONFIG, ...set } as TrainConfig;
  for (const k of keys) {
    if (!valid(CONFIG_SPEC[k], config[k])) {
      throw new ValueError(`TrainConfig expects ${k} ${describeSpec(CONFIG_SPEC[k])}, but received ${JSON.stringify(config[k])}.`);
    }
  }
  if (config.standardEpochs >= config.epochs && config.standardEpochs > 0) {
    throw new ValueError(`TrainConfig expects standardEpochs < epochs (${config.epochs}) so that the switch to ${config.conv} happens, but received ${config.standardEpochs}.`);
  }
  if (!config.out) {
    const conv = config.conv === 'scconv' && config.scconvParts !== 'sru-cru' ? `scconv-${config.scconvParts}` : config.conv;
    config.out = `runs/resnet${config.depth}_${conv}_seed${config.seed}`;
  }
  return config;
}
