/**
 * What one inference forward pass costs in calls, not in time (counts do not depend on what else
 * the machine runs): kernel dispatches by kernel, tensors created, buffers taken from the native
 * backend's pool and fresh ones, and calls into the native addon by function.
 *
 *   node --import tsx scripts/count_inference_ops.ts [--batch 1] [--models resnet20,resnet20-scconv]
 *   ONEDNN_VERBOSE=1 node --import tsx scripts/count_inference_ops.ts --models resnet20 | grep -c '^onednn_verbose,exec'
 *
 * The second form counts oneDNN primitive executions (convs and weight reorders) of the warm-up
 * pass plus the counted one: halve it for one pass. docs/performance.md records the counts.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { BENCH_MODELS } from '../src/cli/bench';
import type { NativeBackend } from '../src/kernels/native_backend';
import { createResNet } from '../src/models/resnet';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const batch = Number(flag('--batch', '1'));
  const models = flag('--models', 'resnet20,resnet20-scconv').split(',');
  await initBackend({ backend: 'native', threads: 2, log: null });
  const backend = tf.backend() as NativeBackend;
  const kernels = new Set(tf.getKernelsForBackend('native').map((k) => k.kernelName));

  // Count the addon's calls and the pool's hits and misses by wrapping them.
  const addonCalls: Record<string, number> = {};
  const addon = backend.addon as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const fn of Object.keys(addon)) {
    const inner = addon[fn];
    addon[fn] = (...a: unknown[]) => {
      addonCalls[fn] = (addonCalls[fn] ?? 0) + 1;
      return inner(...a);
    };
  }
  const pool = { taken: 0, fresh: 0 };
  const take = backend.pool.take.bind(backend.pool);
  backend.pool.take = (n: number) => {
    const r = take(n);
    pool.taken++;
    if (!r) pool.fresh++;
    return r;
  };

  for (const name of models) {
    const spec = BENCH_MODELS[name];
    const model = createResNet({ depth: spec.depth, conv: spec.conv, placement: spec.placement, seed: 0 });
    const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
    // As bench --inference and timeInference run it.
    const forward = () => {
      const y = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
      y.dataSync();
      y.dispose();
    };
    forward(); // warm-up: primitives created, pool filled
    for (const k of Object.keys(addonCalls)) delete addonCalls[k];
    pool.taken = pool.fresh = 0;
    const engine = tf.engine().constructor as unknown as { nextTensorId: number };
    const tensorsBefore = engine.nextTensorId;
    const profile = await tf.profile(forward);
    const byKernel: Record<string, number> = {};
    for (const k of profile.kernels) if (kernels.has(k.name)) byKernel[k.name] = (byKernel[k.name] ?? 0) + 1;
    const dispatches = Object.values(byKernel).reduce((a, b) => a + b, 0);
    const noOpReshapes = profile.kernels.filter((k) => k.name === 'Reshape' &&
      JSON.stringify(k.inputShapes[0]) === JSON.stringify(k.outputShapes[0])).length;
    console.log(JSON.stringify({
      model: name, batch, kernelDispatches: dispatches, noOpReshapes,
      tensorsCreated: engine.nextTensorId - tensorsBefore, tensorsLeft: profile.newTensors,
      poolBuffersTaken: pool.taken, freshBuffers: pool.fresh,
      addonCalls: Object.values(addonCalls).reduce((a, b) => a + b, 0),
      byKernel: Object.fromEntries(Object.entries(byKernel).sort((a, b) => b[1] - a[1])),
      byAddonFunction: { ...addonCalls },
    }));
    x.dispose();
    model.dispose();
  }
}

main();
