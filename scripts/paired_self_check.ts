/**
 * Is paired timing (bench --paired, pairedSpeedRatios in src/analysis/speed.ts) biased? Times a
 * network's training steps in pairs with a second instance of the same network: an unbiased method
 * gives a median ratio near 1. Batch 128, native backend, 2 threads, 16 pairs after ≥ 2 s of warm-up.
 *   node --import tsx scripts/paired_self_check.ts [model, default resnet20]
 */
import * as tf from '@tensorflow/tfjs';
import { pairedSpeedRatios } from '../src/analysis/speed';
import { initBackend } from '../src/backend';
import { createModel } from '../src/models/registry';
import { buildOptimizer } from '../src/train/train';
import { trainStep } from '../src/train/step';

function trainingPass(name: string): () => Promise<void> {
  const model = createModel(name);
  const opt = buildOptimizer(model, { momentum: 0.9, weightDecay: 5e-4, decay: 'kernels' });
  const x = tf.randomNormal([128, 32, 32, 3]) as tf.Tensor4D;
  const labels = Int32Array.from({ length: 128 }, (_, i) => (i * 7) % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  return async () => { await trainStep(model, opt, x, y, labels, 0.1); };
}

async function main(): Promise<void> {
  await initBackend({ threads: 2, log: null });
  const name = process.argv[2] ?? 'resnet20';
  const r = await pairedSpeedRatios(trainingPass(name), trainingPass(name), { steps: 16, warmup: 3, warmupSeconds: 2, minSeconds: 1 });
  console.log(`${name} vs ${name}: ${JSON.stringify(r)}`);
}
main();
