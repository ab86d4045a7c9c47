/**
 * Training-throughput benchmark: CIFAR ResNets on random data, one JSON line per model.
 *
 *   npm run bench                                   # ResNet-20/56, plain and SCConv, batch 128
 *   npm run bench -- --vs-pytorch                   # + ../shared/bench/torch_resnet_bench.py, ratio = ours / PyTorch
 *   npm run bench -- --models resnet20 --steps 5 --batch 64 --profile   # per-kernel times, native fallbacks (--profile-shapes: per shape)
 *   npm run bench -- --inference                    # forward only, batch 1 and 128
 *   npm run bench -- --models resnet20-scconv --recompute   # SCConv recomputes SRU/CRU in the backward pass
 *
 * Each model runs in its own process (a clean peak RSS), one after another; with --vs-pytorch the
 * PyTorch script runs right after ours for the same model with the same batch, steps and threads,
 * never at the same time (two benchmarks on the same cores wreck each other's numbers).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { median, timeInference } from '../analysis/speed';
import { initBackend } from '../backend';
import { ValueError } from '../errors';
import { NATIVE_BACKEND_NAME } from '../kernels/native_backend';
import { nativeFallbacks } from '../kernels/native_util';
import { createResNet, type Placement } from '../models/resnet';
import type { ConvKind } from '../layers/create_conv';
import { SgdMomentum } from '../train/sgd';
import { trainStep } from '../train/step';

/**
 * Benchmark models: name → ResNet depth, conv kind and placement. The default set is the four the
 * PyTorch reference script also builds; Ghost and Octave run only on request (no PyTorch side).
 */
export const BENCH_MODELS: Record<string, { depth: number; conv: ConvKind; placement?: Placement; torch: boolean }> = {
  'resnet20': { depth: 20, conv: 'standard', torch: true },
  'resnet20-scconv': { depth: 20, conv: 'scconv', torch: true },
  'resnet56': { depth: 56, conv: 'standard', torch: true },
  'resnet56-scconv': { depth: 56, conv: 'scconv', torch: true },
  'resnet20-ghost': { depth: 20, conv: 'ghost', torch: false },
  'resnet20-octave': { depth: 20, conv: 'octave', torch: false },
  'resnet56-ghost': { depth: 56, conv: 'ghost', placement: 'both', torch: false },
  'resnet56-octave': { depth: 56, conv: 'octave', torch: false },
};

export interface BenchOptions {
  models: string[];
  batch: number;
  steps: number;
  warmup: number;
  threads: number;
  vsPytorch: boolean;
  profile: boolean;
  /** Profile per kernel and output shape. */
  profileShapes: boolean;
  inference: boolean;
  /** SCConv layers recompute SRU/CRU in the backward pass (less memory, more time). */
  recompute: boolean;
  backend?: string;
}

function parseArgs(argv: string[]): BenchOptions & { worker?: string } {
  const o: BenchOptions & { worker?: string } = {
    models: Object.keys(BENCH_MODELS).filter((m) => BENCH_MODELS[m].torch), batch: 128, steps: 10, warmup: 3, threads: 2,
    vsPytorch: false, profile: false, profileShapes: false, inference: false, recompute: false,
  };
  const int = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ValueError(`bench expects ${flag} to be a non-negative integer, but received ${JSON.stringify(v)}.`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--models') o.models = argv[++i].split(',').filter(Boolean);
    else if (a === '--batch') o.batch = int(a, argv[++i]);
    else if (a === '--steps') o.steps = int(a, argv[++i]);
    else if (a === '--warmup') o.warmup = int(a, argv[++i]);
    else if (a === '--threads') o.threads = int(a, argv[++i]);
    else if (a === '--backend') o.backend = argv[++i];
    else if (a === '--vs-pytorch') o.vsPytorch = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--profile-shapes') o.profile = o.profileShapes = true;
    else if (a === '--inference') o.inference = true;
    else if (a === '--recompute') o.recompute = true;
    else if (a === '--worker') o.worker = argv[++i];
    else throw new ValueError(`bench expects flags --models, --batch, --steps, --warmup, --threads, --backend, --vs-pytorch, --profile, --profile-shapes, --inference, --recompute, but received ${JSON.stringify(a)}.`);
  }
  for (const m of o.models) {
    if (!(m in BENCH_MODELS)) throw new ValueError(`bench expects --models from ${Object.keys(BENCH_MODELS).join(', ')}, but received ${JSON.stringify(m)}.`);
  }
  if (o.batch < 1 || o.steps < 1) throw new ValueError(`bench expects --batch and --steps >= 1, but received ${o.batch} and ${o.steps}.`);
  return o;
}

/**
 * Wrap every kernel of `backendName` with a timer; returns the per-kernel totals (ms, calls), per
 * kernel and output shape when `byShape`.
 */
function instrumentKernels(backendName: string, byShape: boolean): Map<string, { ms: number; calls: number }> {
  const totals = new Map<string, { ms: number; calls: number }>();
  for (const k of tf.getKernelsForBackend(backendName)) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        const first = Array.isArray(out) ? out[0] : out;
        const key = byShape ? `${k.kernelName} [${first?.shape ?? ''}]` : k.kernelName;
        const t = totals.get(key) ?? { ms: 0, calls: 0 };
        t.ms += performance.now() - t0;
        t.calls++;
        totals.set(key, t);
        return out;
      },
    });
  }
  return totals;
}

/** The native kernels that ran the cpu kernel instead (or failed) during this run, per kernel. */
function printFallbacks(modelName: string): void {
  const rows = Object.entries(nativeFallbacks());
  console.error(`native kernels that fell back to cpu, ${modelName}, whole run: ${rows.length === 0 ? 'none' : ''}`);
  for (const [name, c] of rows) {
    console.error(`  ${name.padEnd(34)} ${String(c.fallbacks).padStart(8)} fallbacks ${String(c.failures).padStart(5)} failures  e.g. ${c.examples[0]}`);
  }
}

/** Train `model` for warmup + steps on random data in this process; one result object. */
async function runWorker(modelName: string, o: BenchOptions): Promise<Record<string, unknown>> {
  const chosen = await initBackend({ backend: o.backend, threads: o.threads, log: null });
  const spec = BENCH_MODELS[modelName];
  const model = createResNet({ depth: spec.depth, conv: spec.conv, placement: spec.placement, seed: 0,
    scconv: o.recompute ? { recompute: true } : undefined });
  const profile = o.profile ? instrumentKernels(tf.getBackend(), o.profileShapes) : null;
  const result: Record<string, unknown> = {
    model: modelName, backend: chosen.name, threads: o.threads, batch: o.batch, ...(o.recompute ? { recompute: true } : {}),
    // Trainable weights only, as PyTorch's count (countParams() adds BatchNorm's moving statistics).
    params: model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0),
  };
  const times: number[] = [];
  if (o.inference) {
    for (const batch of [1, o.batch]) {
      const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
      const t = await timeInference(model, x, o.steps, o.warmup);
      x.dispose();
      result[`inferenceBatch${batch}ImagesPerSec`] = +t.imagesPerSec.toFixed(1);
      result[`inferenceBatch${batch}MsPerBatch`] = +t.msPerBatch.toFixed(2);
    }
  } else {
    const opt = new SgdMomentum(model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, decay: true })), 0.9, 5e-4);
    const x = tf.randomNormal([o.batch, 32, 32, 3]) as tf.Tensor4D;
    const labels = Int32Array.from({ length: o.batch }, (_, i) => (i * 7) % 10);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
    for (let s = 0; s < o.warmup + o.steps; s++) {
      if (s === o.warmup) profile?.clear();
      const t0 = performance.now();
      await trainStep(model, opt, x, y, labels, 0.1);
      if (s >= o.warmup) times.push(performance.now() - t0);
    }
    const ms = median(times);
    Object.assign(result, { steps: o.steps, imagesPerSec: +(o.batch / (ms / 1000)).toFixed(1), msPerStep: +ms.toFixed(1) });
  }
  result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (profile) {
    const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, v]) => s + v.ms, 0);
    const steps = o.inference ? 2 * o.steps : o.steps;
    console.error(`per-kernel time, ${modelName}, ms per step (kernels total ${(total / steps).toFixed(1)} ms):`);
    for (const [name, v] of rows.slice(0, Number(process.env.SCCONV_PROFILE_ROWS ?? 25))) {
      console.error(`  ${name.padEnd(34)} ${(v.ms / steps).toFixed(2).padStart(8)} ms  ${(v.calls / steps).toFixed(0).padStart(5)} calls`);
    }
    if (chosen.name === NATIVE_BACKEND_NAME) printFallbacks(modelName);
  }
  return result;
}

/** The PyTorch reference script, if this checkout sits next to ../shared. */
function torchScript(): string | null {
  const candidates = [process.env.SCCONV_TORCH_BENCH, path.resolve('..', 'shared', 'bench', 'torch_resnet_bench.py')];
  return candidates.find((f): f is string => !!f && fs.existsSync(f)) ?? null;
}

function runPytorch(modelName: string, o: BenchOptions): Record<string, unknown> {
  const script = torchScript();
  if (!script) return { error: 'torch_resnet_bench.py not found (set SCCONV_TORCH_BENCH)' };
  const spec = BENCH_MODELS[modelName];
  if (!spec.torch) return { error: `the PyTorch reference script has no ${spec.conv} conv` };
  const python = process.env.SCCONV_PYTHON ?? '/usr/bin/python3';
  // The same OpenMP wait policy as ours (the native addon defaults to passive; see native_addon.ts).
  const env = { ...process.env };
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined) env.OMP_WAIT_POLICY = 'passive';
  const r = spawnSync(python, [script, '--depth', String(spec.depth), '--conv', spec.conv, '--batch', String(o.batch),
    '--threads', String(o.threads), '--steps', String(o.steps), '--warmup', String(o.warmup)], { encoding: 'utf8', env });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { error: `PyTorch run failed: ${(r.stderr || r.error?.message || 'no output').trim().split('\n').pop()}` };
  }
}

/** Run one model in a child process (same node flags) and parse its JSON line. */
function runChild(modelName: string, argv: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--worker', modelName],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { model: modelName, error: `benchmark process exited with ${r.status}` };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  if (o.worker) {
    console.log(JSON.stringify(await runWorker(o.worker, o)));
    return;
  }
  const childArgv = argv.filter((a) => a !== '--vs-pytorch');
  for (const m of o.models) {
    const ours = runChild(m, childArgv);
    const line: Record<string, unknown> = {
      ...ours, load1: +os.loadavg()[0].toFixed(2), ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? (process.env.GOMP_SPINCOUNT ? `GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}` : 'passive'),
    };
    if (o.vsPytorch && !o.inference) {
      const torch = runPytorch(m, o);
      line.pytorch = torch;
      if (typeof torch.imagesPerSec === 'number' && typeof ours.imagesPerSec === 'number') {
        line.ratio = +(ours.imagesPerSec / torch.imagesPerSec).toFixed(3);
      }
    }
    console.log(JSON.stringify(line));
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
