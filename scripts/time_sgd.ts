/**
 * Milliseconds per optimizer step (SGD with momentum and weight decay over every trainable weight)
 * on the native backend, the fused kernel (SCConvSgdMomentum, one call a weight) against the tfjs
 * composition (five), for the four bench models; the two alternate 40 times in one process, medians.
 *   node --import tsx scripts/time_sgd.ts
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../src/kernels/native_addon';
import { registerNativeBackend } from '../src/kernels/native_backend';
import { createModel } from '../src/models/registry';
import { sgdUpdate } from '../src/train/sgd';

const median = (a: number[]) => a.slice().sort((p, q) => p - q)[a.length >> 1];

async function main(): Promise<void> {
  const loaded = loadNativeAddon();
  if (!loaded.addon) throw new Error(`the native addon did not load: ${loaded.why}`);
  registerNativeBackend(loaded.addon, 2);
  await tf.setBackend('native');
  for (const name of ['resnet20', 'resnet20_scconv', 'resnet56', 'resnet56_scconv']) {
    const model = createModel(name);
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const velocities = weights.map((w) => tf.variable(tf.zerosLike(w)));
    const grads = weights.map((w) => tf.randomNormal(w.shape));
    const step = (fused: boolean) => tf.tidy(() => weights.forEach((w, i) => {
      const [nw, nv] = sgdUpdate(w, velocities[i], grads[i], { lr: 0.01, momentum: 0.9, decay: 5e-4 }, fused);
      velocities[i].assign(nv);
      w.assign(nw);
    }));
    const ms: Record<'fused' | 'composed', number[]> = { fused: [], composed: [] };
    for (let r = 0; r < 40; r++) {
      for (const k of r % 2 ? ['fused', 'composed'] as const : ['composed', 'fused'] as const) {
        const t0 = performance.now();
        step(k === 'fused');
        ms[k].push(performance.now() - t0);
      }
    }
    console.log(`${name}: ${weights.length} weights, optimizer step fused ${median(ms.fused).toFixed(2)} ms, ` +
      `composed ${median(ms.composed).toFixed(2)} ms`);
    tf.dispose([...velocities, ...grads]);
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
