/**
 * Milliseconds per SRU forward and forward+backward on the native backend, fused kernel against
 * the tfjs composition, on the three stage shapes of a CIFAR ResNet at batch 128.
 *   node --import tsx scripts/time_sru.ts
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../src/kernels/native_addon';
import { registerNativeBackend } from '../src/kernels/native_backend';
import { sru, sruComposed, type SRUOptions } from '../src/layers/sru';

function time(f: () => tf.Tensor | tf.Tensor[], reps = 10): number {
  for (let i = 0; i < 2; i++) tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.dispose(f());
  return (performance.now() - t0) / reps;
}

async function main(): Promise<void> {
  const loaded = loadNativeAddon();
  if (!loaded.addon) throw new Error(`the native addon did not load: ${loaded.why}`);
  registerNativeBackend(loaded.addon, 2);
  await tf.setBackend('native');
  for (const gate of ['soft', 'hard'] as const) {
    const o: SRUOptions = { groupNum: 4, threshold: 0.5, gate, epsilon: 1e-5 };
    for (const shape of [[128, 32, 32, 16], [128, 16, 16, 32], [128, 8, 8, 64]] as [number, number, number, number][]) {
      const x = tf.randomNormal(shape) as tf.Tensor4D;
      const gamma = tf.randomUniform([shape[3]], 0.5, 1.5), beta = tf.randomNormal([shape[3]]);
      const row: string[] = [];
      for (const [name, f] of [['fused', sru], ['composed', sruComposed]] as const) {
        const fwd = time(() => f(x, { gamma, beta }, o));
        const grad = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(f(a as tf.Tensor4D, { gamma: g, beta: b }, o)));
        const both = time(() => grad([x, gamma, beta]));
        row.push(`${name} fwd ${fwd.toFixed(2)} ms, fwd+bwd ${both.toFixed(2)} ms`);
      }
      console.log(`${gate} [${shape.join(',')}]: ${row.join(' | ')}`);
      tf.dispose([x, gamma, beta]);
    }
  }
}
main();
