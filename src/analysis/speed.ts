/**
 * Inference timing: the median time of a forward pass of a model on one batch, after a warm-up.
 * `npm run bench -- --inference` and notebook 04 time the same way. Reads the result with an
 * asynchronous `data()` (webgpu in Node has no synchronous read), so the time includes the work
 * a lazy backend would otherwise defer.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';

export interface InferenceTiming {
  batch: number;
  /** Median milliseconds per forward pass. */
  msPerBatch: number;
  imagesPerSec: number;
  /** Every timed pass, in ms (warm-up passes excluded). */
  times: number[];
}

/** The middle value (the upper of the two middle ones for an even count), as bench has always reported. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Time `steps` forward passes (inference mode) of `model` on `x` after `warmup` untimed ones;
 * `afterWarmup` runs once between the two (bench resets its per-kernel profile there).
 */
export async function timeInference(model: tf.LayersModel, x: tf.Tensor4D, steps: number, warmup = 1,
                                    afterWarmup?: () => void): Promise<InferenceTiming> {
  expect(Number.isInteger(steps) && steps >= 1, 'timeInference', 'steps to be an integer >= 1', steps);
  expect(Number.isInteger(warmup) && warmup >= 0, 'timeInference', 'warmup to be an integer >= 0', warmup);
  const times: number[] = [];
  for (let s = 0; s < warmup + steps; s++) {
    if (s === warmup) afterWarmup?.();
    const t0 = performance.now();
    const y = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    await y.data(); // waits for the result
    y.dispose();
    if (s >= warmup) times.push(performance.now() - t0);
  }
  const ms = median(times);
  return { batch: x.shape[0], msPerBatch: ms, imagesPerSec: x.shape[0] / (ms / 1000), times };
}

/** One batch size's inference result, as bench and scripts/torch_bench.py report it. */
export interface InferenceResult {
  imagesPerSec: number;
  msPerBatch?: number;
  peakRssMB?: number;
}

/** Inference results by batch size (the keys are the batch sizes, "1" and "128" by default). */
export type InferenceByBatch = Record<string, InferenceResult>;

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * `a ÷ b` to 3 decimals: one throughput against another measured in the same run (SCConv against
 * its plain network, ours against PyTorch). Null when either is not a positive number, i.e. that
 * run failed or did not happen, so a missing measurement never reads as a ratio.
 */
export function throughputRatio(a: unknown, b: unknown): number | null {
  return positive(a) && positive(b) ? +(a / b).toFixed(3) : null;
}

/**
 * Per batch size, `a`'s images/s ÷ `b`'s (throughputRatio) for every batch size `a` measured; null
 * when `a` has no inference results at all.
 */
export function inferenceRatios(a: InferenceByBatch | undefined, b: InferenceByBatch | undefined): Record<string, number | null> | null {
  if (!a) return null;
  return Object.fromEntries(Object.entries(a).map(([batch, r]) => [batch, throughputRatio(r.imagesPerSec, b?.[batch]?.imagesPerSec)]));
}
