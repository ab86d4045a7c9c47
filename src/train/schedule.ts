/**
 * Per-epoch schedules. `epoch` is 0-based: the number of epochs completed before this one.
 */
import type { TrainConfig } from './config';

/**
 * Learning rate for an epoch.
 * 'step' (the paper's recipe, torch.optim.lr_scheduler.MultiStepLR): lr · 0.1^k, where k counts
 * the milestones floor(epochs/2) and floor(3·epochs/4) that are <= epoch: 0.05 until epoch 100
 * of 200, 0.005 until 150, then 0.0005. Milestones are at least 1, so the first epoch of even a
 * 1-epoch run trains at the full lr.
 * 'cosine' (CosineAnnealingLR, T_max = epochs, η_min = 0): lr · ½(1 + cos(π · epoch / epochs)).
 */
export function learningRate(config: Pick<TrainConfig, 'lr' | 'epochs' | 'schedule'>, epoch: number): number {
  const { lr, epochs } = config;
  if (config.schedule === 'cosine') return lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
  const milestones = [Math.floor(epochs / 2), Math.floor((3 * epochs) / 4)].map((m) => Math.max(1, m));
  return lr * 0.1 ** milestones.filter((m) => m <= epoch).length;
}

/**
 * SRU gate threshold for an epoch. With the seed blog's warm-up it rises linearly from 0.3 to its
 * cap 0.5: min(0.5, 0.3 + 0.2 · epoch / epochs) (fewer features are routed to the
 * "less informative" half early on); otherwise the fixed `threshold` (Eq. 3, 0.5 in the paper).
 */
export function sruThreshold(config: Pick<TrainConfig, 'threshold' | 'thresholdWarmup' | 'epochs'>, epoch: number): number {
  return config.thresholdWarmup ? Math.min(0.5, 0.3 + (0.2 * epoch) / config.epochs) : config.threshold;
}
