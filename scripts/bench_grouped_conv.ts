/**
 * Micro-benchmark behind the choice in src/layers/grouped_conv.ts: a grouped 3×3 conv as
 * split + per-group conv + concat (what the library does) against one dense conv with a
 * block-diagonal masked kernel, forward + backward of sum(y²), on the stock tfjs cpu backend.
 *
 *   node --import tsx scripts/bench_grouped_conv.ts
 */
import * as tf from '@tensorflow/tfjs';
import { groupedConv2d } from '../src/layers/grouped_conv';

/** The alternative: tile the grouped kernel to [k, k, Cin, Cout] and zero the off-diagonal blocks. */
function maskedConv(x: tf.Tensor4D, kernel: tf.Tensor4D, groups: number, mask: tf.Tensor): tf.Tensor4D {
  return tf.conv2d(x, tf.mul(tf.tile(kernel, [1, 1, groups, 1]), mask) as tf.Tensor4D, 1, 'same');
}

function blockMask(cin: number, cout: number, groups: number): tf.Tensor {
  const m = new Float32Array(cin * cout);
  for (let i = 0; i < cin; i++) {
    for (let o = 0; o < cout; o++) m[i * cout + o] = +(Math.floor(i / (cin / groups)) === Math.floor(o / (cout / groups)));
  }
  return tf.tensor(m, [1, 1, cin, cout]);
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  console.log('batch  size  Cin→Cout  groups  split+concat ms  masked ms');
  for (const [n, hw, cin, cout, g] of [[64, 32, 4, 16, 2], [64, 16, 8, 32, 2], [64, 8, 16, 64, 2], [64, 8, 16, 64, 4]]) {
    const x = tf.randomNormal([n, hw, hw, cin]) as tf.Tensor4D;
    const kernel = tf.variable(tf.randomNormal([3, 3, cin / g, cout])) as unknown as tf.Tensor4D;
    const mask = blockMask(cin, cout, g);
    const time = (f: () => tf.Tensor): number => {
      const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(f())) as tf.Scalar).value);
      step().dispose();
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) step().dispose();
      return (performance.now() - t0) / 3;
    };
    const split = time(() => groupedConv2d(x, kernel, g));
    const masked = time(() => maskedConv(x, kernel, g, mask));
    console.log(`${n}  ${hw}×${hw}  ${cin}→${cout}  ${g}  ${split.toFixed(0)}  ${masked.toFixed(0)}`);
    tf.dispose([x, kernel, mask]);
  }
}
main();
