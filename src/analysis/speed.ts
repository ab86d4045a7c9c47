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

/** Time `steps` forward passes (inference mode) of `model` on `x` after `warmup` untimed ones. */
export async function timeInference(model: tf.LayersModel, x: tf.Tensor4D, steps: number, warmup = 1): Promise<InferenceTiming> {
  expect(Number.isInteger(steps) && steps >= 1, 'timeInference', 'steps to be an integer >= 1', steps);
  expect(Number.isInteger(warmup) && warmup >= 0, 'timeInference', 'warmup to be an integer >= 0', warmup);
  const times: number[] = [];
  for (let s = 0; s < warmup + steps; s++) {
    const t0 = performance.now();
    const y = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    await y.data(); // waits for the result
    y.dispose();
    if (s >= warmup) times.push(performance.now() - t0);
  }
  const ms = median(times);
  return { batch: x.shape[0], msPerBatch: ms, imagesPerSec: x.shape[0] / (ms / 1000), times };
}
