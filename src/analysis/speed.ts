/**
 * Timing loops: the median time of a forward pass of a model on one batch (or of any step), after a
 * warm-up that lasts a number of passes and, where asked, a number of seconds.
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

/** How long a timed loop runs: passes (or steps) and seconds, each a minimum, warm-up then timed. */
export interface TimedLoopOptions {
  /** Timed passes, at least (default 10). */
  steps?: number;
  /** Untimed warm-up passes, at least (default 1). */
  warmup?: number;
  /**
   * The warm-up lasts at least this long (default 0). V8 compiles JavaScript to optimised code only
   * after many calls: a batch-1 forward pass of SCConv-ResNet-20 took 25 ms after 3 warm-up passes
   * and 4 ms after 300, so short passes need seconds, not a count, to reach steady state.
   */
  warmupSeconds?: number;
  /** The timed passes last at least this long (default 0): enough samples for a median of short passes. */
  minSeconds?: number;
  /** Runs once between the warm-up and the timed passes (bench resets its per-kernel profile there). */
  afterWarmup?: () => void;
}

/**
 * Run `pass` for a warm-up, then time it: at least `steps` timed passes lasting at least
 * `minSeconds` in all, after at least `warmup` passes lasting at least `warmupSeconds`. Returns
 * every timed pass's milliseconds.
 */
export async function timedLoop(pass: () => Promise<void>, o: TimedLoopOptions = {}): Promise<number[]> {
  const { steps = 10, warmup = 1, warmupSeconds = 0, minSeconds = 0 } = o;
  expect(Number.isInteger(steps) && steps >= 1, 'timedLoop', 'steps to be an integer >= 1', steps);
  expect(Number.isInteger(warmup) && warmup >= 0, 'timedLoop', 'warmup to be an integer >= 0', warmup);
  expect(warmupSeconds >= 0 && minSeconds >= 0, 'timedLoop', 'warmupSeconds and minSeconds >= 0', [warmupSeconds, minSeconds]);
  const start = performance.now();
  for (let s = 0; s < warmup || performance.now() - start < warmupSeconds * 1000; s++) await pass();
  o.afterWarmup?.();
  const times: number[] = [];
  for (let total = 0; times.length < steps || total < minSeconds * 1000;) {
    const t0 = performance.now();
    await pass();
    times.push(performance.now() - t0);
    total += times[times.length - 1];
  }
  return times;
}

/** Paired timing of two passes (see pairedSpeedRatios). */
export interface PairedRatios {
  /** The median of the per-pair ratios, and its quartiles. */
  median: number;
  p25: number;
  p75: number;
  /** Timed pairs. */
  pairs: number;
}

/**
 * The speed of `b` relative to `a` (a's ms ÷ b's ms: above 1, b is faster) from passes timed in
 * pairs: each timed pass of timedLoop (`o`, counted in pairs) runs a and b once each, in
 * alternating order, and gives one ratio. On a machine whose speed drifts between minutes (this
 * project's shared 2-core VMs: ResNet-20's training step took 172–369 ms within one hour) two
 * throughputs measured apart carry that drift into their ratio; a pair's two passes run seconds
 * apart under the same conditions. The warm-up runs both, in pairs too.
 */
export async function pairedSpeedRatios(a: () => Promise<void>, b: () => Promise<void>, o: TimedLoopOptions = {}): Promise<PairedRatios> {
  const ratios: number[] = [];
  let warm = false, aFirst = false;
  const timed = async (f: () => Promise<void>) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
  await timedLoop(async () => {
    aFirst = !aFirst;
    let ta: number, tb: number;
    if (aFirst) { ta = await timed(a); tb = await timed(b); } else { tb = await timed(b); ta = await timed(a); }
    if (warm) ratios.push(ta / tb);
  }, { ...o, afterWarmup: () => { warm = true; o.afterWarmup?.(); } });
  const sorted = [...ratios].sort((x, y) => x - y), at = (q: number) => +sorted[Math.floor(q * (sorted.length - 1) + 0.5)].toFixed(3);
  return { median: +median(ratios).toFixed(3), p25: at(0.25), p75: at(0.75), pairs: ratios.length };
}

/** One forward pass (inference mode) of `model` on `x` per call, its result read asynchronously, as a user would. */
export function forwardPass(model: tf.LayersModel, x: tf.Tensor4D): () => Promise<void> {
  return async () => {
    const y = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    await y.data(); // waits for the result
    y.dispose();
  };
}

/**
 * Time forward passes (inference mode) of `model` on `x` (`forwardPass`): timedLoop's options, or
 * just the number of timed passes (after one warm-up pass). The defaults time 10 passes after 1
 * warm-up pass.
 */
export async function timeInference(model: tf.LayersModel, x: tf.Tensor4D, o: number | TimedLoopOptions = {}): Promise<InferenceTiming> {
  const times = await timedLoop(forwardPass(model, x), typeof o === 'number' ? { steps: o } : o);
  const ms = median(times);
  return { batch: x.shape[0], msPerBatch: ms, imagesPerSec: x.shape[0] / (ms / 1000), times };
}

/** One batch size's inference result, as bench and scripts/torch_bench.py report it. */
export interface InferenceResult {
  imagesPerSec: number;
  msPerBatch?: number;
  peakRssMB?: number;
  /** Timed passes. */
  steps?: number;
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
