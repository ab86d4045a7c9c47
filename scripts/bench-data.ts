/**
 * How fast the input pipeline is: images/s for 128-image batches with shuffling, the standard
 * augmentation and normalisation, alone (fillBatch) and with tensor creation (batches()).
 * Compare with training throughput (a few hundred images/s on CPU): it must never be the bottleneck.
 *
 *   node --import tsx scripts/bench-data.ts
 */
import * as tf from '@tensorflow/tfjs';
import { batches, fillBatch } from '../src/data/batches';
import { Rng } from '../src/data/rng';

function main(): void {
  const count = 50000;
  const rng = new Rng(1);
  const images = Uint8Array.from({ length: count * 3072 }, () => rng.int(256));
  const split = { images, labels: Uint8Array.from({ length: count }, () => rng.int(10)), count };
  const out = new Float32Array(128 * 3072);
  const order = new Rng(2).shuffle(Int32Array.from({ length: count }, (_, i) => i));
  for (let w = 0; w < 50; w++) fillBatch(split, order.subarray(w * 128, (w + 1) * 128), out, new Rng(w));
  let t = performance.now();
  let n = 0;
  while (performance.now() - t < 3000) {
    const k = n % 390;
    fillBatch(split, order.subarray(k * 128, (k + 1) * 128), out, new Rng(n));
    n++;
  }
  console.log(`fillBatch, batch 128, augmented: ${Math.round((n * 128) / ((performance.now() - t) / 1000))} images/s`);
  t = performance.now();
  let seen = 0;
  for (const b of batches(split, { batchSize: 128, shuffle: true, augment: true, seed: 0, epoch: 1 })) {
    seen += b.labels.length;
    tf.dispose([b.x, b.y]);
  }
  const s = (performance.now() - t) / 1000;
  console.log(`batches(), one epoch of ${seen} (shuffle + augment + tensors, backend ${tf.getBackend()}): ${Math.round(seen / s)} images/s, ${s.toFixed(1)} s`);
}

main();
