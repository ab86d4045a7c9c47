/**
 * Where a training step's memory goes: one bench model, random data, on the native backend.
 *
 *   node --expose-gc --import tsx scripts/memory_profile.ts --model resnet20-scconv [--batch 128] [--steps 2] [--recompute]
 *
 * Prints (bytes in MB):
 *   - the tensors the forward pass saves for the backward pass as the trainer runs it
 *     (frugalVariableGrads, src/train/backprop.ts), by kernel name: each buffer counted once for the
 *     first kernel that saved it ("first"), and the buffers only kernels of that name saved ("only":
 *     what not saving them would free); all buffer bytes alive when the forward ends; the most
 *     alive during the forward pass and during the whole step;
 *   - per training step (trainStep, as the trainer runs it): the most tensor buffer bytes alive at
 *     any moment (each tfjs data id once; tf.memory().numBytes counts every tensor, so a reshape or
 *     a saved clone counts its buffer again), the native buffer pool's bytes, the
 *     V8 heap, ArrayBuffer bytes and the process's RSS and peak RSS;
 *   - the same peak with tf.variableGrads, which keeps everything to the end of the backward pass.
 * Models as the bench names them: resnet20, resnet20-scconv, resnet56, resnet56-scconv, ...
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { applyReleasing } from '../src/models/apply_releasing';
import { createResNet } from '../src/models/resnet';
import { SgdMomentum } from '../src/train/sgd';
import { frugalVariableGrads } from '../src/train/backprop';
import { trainStep } from '../src/train/step';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const modelName = flag('--model', 'resnet20-scconv');
const batch = Number(flag('--batch', '128'));
const steps = Number(flag('--steps', '2'));
const recompute = argv.includes('--recompute');
const MB = (b: number) => +(b / 2 ** 20).toFixed(1);

interface TapeNode { kernelName: string; saved?: unknown[] }
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; tensorInfo: WeakMap<tf.DataId, { bytes: number }> };
  startTape(): void;
  endTape(): void;
  trackTensor(t: tf.Tensor, backend: unknown): void;
  removeDataId(dataId: tf.DataId, backend: unknown): void;
}
const engine = tf.engine() as unknown as EngineInternals;

/**
 * Bytes of tensor buffers alive, each data id once (tf.memory().numBytes counts every tensor, so a
 * reshape or a clone saved for the backward pass counts its buffer again), and the most since `reset`.
 */
const buffers = { live: 0, peak: 0, reset() { this.peak = this.live; } };
const track = engine.trackTensor;
engine.trackTensor = function (this: EngineInternals, t, b) {
  const fresh = !this.state.tensorInfo.has(t.dataId);
  track.call(this, t, b);
  if (fresh) buffers.peak = Math.max(buffers.peak, buffers.live += this.state.tensorInfo.get(t.dataId)!.bytes);
};
const removeDataId = engine.removeDataId;
engine.removeDataId = function (this: EngineInternals, dataId, b) {
  const info = this.state.tensorInfo.get(dataId);
  removeDataId.call(this, dataId, b);
  if (info && !this.state.tensorInfo.has(dataId)) buffers.live -= info.bytes;
};

/** Run `f` and return the most buffer bytes alive during it. */
async function peakBytesDuring(f: () => Promise<unknown> | unknown): Promise<number> {
  buffers.reset();
  await f();
  return buffers.peak;
}

async function main(): Promise<void> {
  const m = /^resnet(\d+)(-scconv)?$/.exec(modelName);
  if (!m) throw new Error(`memory_profile expects --model resnet<depth>[-scconv] (e.g. resnet20-scconv), but received ${modelName}.`);
  const spec = { depth: Number(m[1]), conv: m[2] ? 'scconv' as const : 'standard' as const };
  await initBackend({ backend: 'native', threads: 2, log: null });
  const model = createResNet({ depth: spec.depth, conv: spec.conv, seed: 0, scconv: { recompute } });
  const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  const weights = buffers.live;
  console.log(JSON.stringify({ model: modelName, batch, recompute, weightsAndBatchMB: MB(weights) }));

  // 1. What the forward pass saves for the backward pass, as the trainer runs it (frugalVariableGrads:
  // shape records where a gradient reads only shapes; the tape is read at the end of the forward pass).
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let tape: TapeNode[] = [];
  let forwardLive = 0, forwardPeak = 0;
  buffers.reset();
  const first = frugalVariableGrads(() => {
    const loss = tf.losses.softmaxCrossEntropy(y, applyReleasing(model, x, { training: true })) as tf.Scalar;
    tape = [...(engine.state.activeTape ?? [])].map((n) => ({ ...n, saved: [...(n.saved ?? [])] }));
    [forwardLive, forwardPeak] = [buffers.live, buffers.peak];
    return loss;
  }, vars);
  const backwardPeak = buffers.peak;
  // Each saved buffer once: its bytes and the kernels that saved it. "first" charges it to the first
  // kernel that saved it; "only" counts buffers no other kernel saved (what not saving would free).
  const savers = new Map<tf.DataId, { bytes: number; kernels: Set<string>; first: string }>();
  for (const node of tape) {
    for (const t of node.saved ?? []) {
      if (!(t instanceof tf.Tensor)) continue; // a shape record: no data
      const b = savers.get(t.dataId) ?? { bytes: t.size * 4, kernels: new Set<string>(), first: node.kernelName };
      b.kernels.add(node.kernelName);
      savers.set(t.dataId, b);
    }
  }
  const byKernel = new Map<string, { first: number; only: number; tensors: number }>();
  for (const b of savers.values()) {
    for (const k of b.kernels) {
      const row = byKernel.get(k) ?? { first: 0, only: 0, tensors: 0 };
      row.tensors++;
      if (k === b.first) row.first += b.bytes;
      if (b.kernels.size === 1) row.only += b.bytes;
      byKernel.set(k, row);
    }
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].first - a[1].first);
  const savedBytes = [...savers.values()].reduce((s, b) => s + b.bytes, 0);
  console.log(JSON.stringify({ afterForward: { buffersMB: MB(forwardLive - weights), savedForBackwardMB: MB(savedBytes), tapeNodes: tape.length },
    peakBuffersMB: { forward: MB(forwardPeak - weights), backward: MB(backwardPeak - weights) } }));
  console.log('  saved by kernel               first MB    only MB  tensors');
  for (const [name, r] of rows.filter(([, r]) => r.first + r.only >= 0.05 * 2 ** 20)) {
    console.log(`  ${name.padEnd(26)} ${MB(r.first).toFixed(1).padStart(9)} ${MB(r.only).toFixed(1).padStart(10)} ${String(r.tensors).padStart(8)}`);
  }
  tf.dispose([first.value, ...Object.values(first.grads)]);

  // 2. Training steps as the trainer runs them, then one with tf.variableGrads for comparison.
  const opt = new SgdMomentum(model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, decay: true })), 0.9, 5e-4);
  const backend = tf.backend() as unknown as { pool?: { bytes: number } };
  for (let s = 0; s < steps; s++) {
    const peak = await peakBytesDuring(() => trainStep(model, opt, x, y, labels, 0.1));
    const mem = process.memoryUsage();
    console.log(JSON.stringify({
      step: s + 1, peakBuffersMB: MB(peak), poolMB: MB(backend.pool?.bytes ?? 0), heapMB: MB(mem.heapUsed),
      arrayBuffersMB: MB(mem.arrayBuffers), rssMB: MB(mem.rss), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }));
  }
  const stockPeak = await peakBytesDuring(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  console.log(JSON.stringify({ tfVariableGradsPeakBuffersMB: MB(stockPeak) }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
