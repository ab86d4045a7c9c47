/**
 * Throughput benchmark: CIFAR ResNets on random data, one JSON line per model.
 *
 *   npm run bench                                   # ResNet-20/56, plain and SCConv, training, batch 128
 *   npm run bench -- --vs-pytorch                   # + scripts/torch_bench.py (PyTorch): images/s, peak RSS, ours ÷ PyTorch
 *   npm run bench -- --inference [--vs-pytorch]     # forward only, batch 1 and --batch, each in its own process
 *   npm run bench -- --models resnet20 --steps 5 --batch 64 --profile   # per-kernel times, native fallbacks (--profile-shapes: per shape)
 *   npm run bench -- --models resnet20-scconv --recompute   # SCConv recomputes SRU/CRU in the backward pass
 *   npm run bench -- --vs-pytorch --rounds 3        # every model 3 times, interleaved; the median round of each
 *   npm run bench -- --models resnet20-scconv --paired   # + vsStandardPaired: steps of both networks timed in pairs
 *   npm run bench -- --inference --paired           # + inferenceVsStandardPaired: forward passes at --batch in pairs
 *
 * Each measurement warms up for at least --warmup steps (passes) and --warmup-seconds (default 2),
 * then times at least --steps of them lasting at least --min-seconds (default 1); both engines alike.
 * The seconds matter for short passes: V8 optimises JavaScript only after many calls, and a batch-1
 * forward pass of SCConv-ResNet-20 took 25 ms after 3 warm-up passes but 4 ms after 300 (PyTorch's:
 * 12 ms either way), so a count-only warm-up timed the JIT, not the network.
 *
 * Fields of a line (docs/performance.md has the full list): `imagesPerSec` and `peakRssMB` (training)
 * or `inference: {"1": {imagesPerSec, msPerBatch, peakRssMB}, "128": {...}}`; for every model that
 * replaces the 3×3 conv (SCConv, Ghost, Octave) `vsStandard` (training) or `inferenceVsStandard`
 * (per batch): its images/s ÷ its plain network's in the same invocation. The plain network runs
 * even when not asked for, so the ratio always exists (said on stderr). With --vs-pytorch, `pytorch`
 * holds the PyTorch line (with its own peakRssMB and vsStandard) and `vsPytorch` /
 * `inferenceVsPytorch` are ours ÷ PyTorch.
 *
 * With --rounds N the whole plan runs N times, round after round, and each model's line holds its
 * median round (by images/s; per batch size for inference), with `rounds`, `imagesPerSecRounds` and,
 * for a variant, `vsStandardRounds` (inference: `inferenceVsStandardRounds`), each round's ratio to
 * its plain network's same round: on this 2-core VM one pass moved SCConv-ResNet-20's vsStandard
 * between 0.69 and 0.98 from run to run, so a single pass is no basis for a published ratio.
 *
 * With --paired, each variant also gets `vsStandardPaired` {median, p25, p75, pairs}: one more
 * process trains the variant and its plain network side by side, each timed pass one step of each
 * in alternating order, and takes the plain network's ms ÷ the variant's per pair
 * (src/analysis/speed.ts, pairedSpeedRatios); with --inference, `inferenceVsStandardPaired` from
 * forward passes at --batch, paired the same way. Its ratio does not carry the machine's drift between
 * the two networks' separate runs, which on the shared 2-core VMs is larger than the effects measured.
 * The paired process's own flags pair a network with itself, a check that pairing is unbiased:
 *   node --import tsx src/cli/bench.ts --worker resnet20 --worker-paired resnet20 --steps 16
 *
 * Every measurement runs in its own process (a clean peak RSS), one after another; the PyTorch one
 * runs right after ours for the same model with the same batch, steps and threads, never at the
 * same time (two benchmarks on the same cores wreck each other's numbers).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { forwardPass, inferenceRatios, median, pairedSpeedRatios, throughputRatio, timedLoop, timeInference, type InferenceByBatch } from '../analysis/speed';
import { initBackend } from '../backend';
import { ValueError } from '../errors';
import { NATIVE_BACKEND_NAME } from '../kernels/native_backend';
import { nativeFallbacks } from '../kernels/native_util';
import { createResNet, type Placement } from '../models/resnet';
import type { ConvKind } from '../layers/create_conv';
import { SgdMomentum } from '../train/sgd';
import { trainStep } from '../train/step';
import { moduleFolder } from '../util/module_folder';
import { runCli } from './run_cli';

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
  /** The warm-up lasts at least this long, in seconds. */
  warmupSeconds: number;
  /** The timed steps last at least this long, in seconds. */
  minSeconds: number;
  threads: number;
  vsPytorch: boolean;
  profile: boolean;
  /** Profile per kernel and output shape. */
  profileShapes: boolean;
  inference: boolean;
  /** SCConv layers recompute SRU/CRU in the backward pass (less memory, more time). */
  recompute: boolean;
  /** Times the whole plan runs (interleaved); each line holds the model's median round. */
  rounds: number;
  /** Also time each variant's training steps (forward passes with --inference) in pairs with its plain network's. */
  paired: boolean;
  backend?: string;
}

/** What a worker process (bench itself, re-run with the internal --worker flags) measures. */
interface WorkerTask {
  model: string;
  /** Inference at this batch size; training when absent. */
  inferenceBatch?: number;
  /** Training steps (forward passes at inferenceBatch) timed in pairs with this (plain) network's. */
  pairedWith?: string;
}

const FLAGS = '--models, --batch, --steps, --warmup, --warmup-seconds, --min-seconds, --threads, --backend, --vs-pytorch, --profile, --profile-shapes, --inference, --recompute, --rounds, --paired';

export function parseArgs(argv: string[]): BenchOptions & { worker?: WorkerTask } {
  const o: BenchOptions & { worker?: WorkerTask } = {
    models: Object.keys(BENCH_MODELS).filter((m) => BENCH_MODELS[m].torch), batch: 128, steps: 10, warmup: 3, warmupSeconds: 2, minSeconds: 1, threads: 2,
    vsPytorch: false, profile: false, profileShapes: false, inference: false, recompute: false, rounds: 1, paired: false,
  };
  let workerBatch: number | undefined, workerPaired: string | undefined;
  const value = (flag: string, v: string | undefined): string => {
    if (v === undefined || v.startsWith('--')) throw new ValueError(`bench expects a value after ${flag}, but received ${v === undefined ? 'nothing' : JSON.stringify(v)}.`);
    return v;
  };
  const int = (flag: string, v: string | undefined) => {
    const n = Number(value(flag, v));
    if (!Number.isInteger(n) || n < 0) throw new ValueError(`bench expects ${flag} to be a non-negative integer, but received ${JSON.stringify(v)}.`);
    return n;
  };
  const seconds = (flag: string, v: string | undefined) => {
    const n = Number(value(flag, v));
    if (!Number.isFinite(n) || n < 0) throw new ValueError(`bench expects ${flag} to be a number of seconds >= 0, but received ${JSON.stringify(v)}.`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--models') o.models = value(a, argv[++i]).split(',').filter(Boolean);
    else if (a === '--batch') o.batch = int(a, argv[++i]);
    else if (a === '--steps') o.steps = int(a, argv[++i]);
    else if (a === '--warmup') o.warmup = int(a, argv[++i]);
    else if (a === '--warmup-seconds') o.warmupSeconds = seconds(a, argv[++i]);
    else if (a === '--min-seconds') o.minSeconds = seconds(a, argv[++i]);
    else if (a === '--threads') o.threads = int(a, argv[++i]);
    else if (a === '--backend') o.backend = value(a, argv[++i]);
    else if (a === '--vs-pytorch') o.vsPytorch = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--profile-shapes') o.profile = o.profileShapes = true;
    else if (a === '--inference') o.inference = true;
    else if (a === '--recompute') o.recompute = true;
    else if (a === '--rounds') o.rounds = int(a, argv[++i]);
    else if (a === '--paired') o.paired = true;
    else if (a === '--worker') o.worker = { model: value(a, argv[++i]) };
    else if (a === '--worker-batch') workerBatch = int(a, argv[++i]);
    else if (a === '--worker-paired') workerPaired = value(a, argv[++i]);
    else throw new ValueError(`bench expects flags ${FLAGS}, but received ${JSON.stringify(a)}.`);
  }
  if (o.models.length === 0) throw new ValueError(`bench expects --models to name at least one of ${Object.keys(BENCH_MODELS).join(', ')}, but received none.`);
  for (const m of o.models) {
    if (!(m in BENCH_MODELS)) throw new ValueError(`bench expects --models from ${Object.keys(BENCH_MODELS).join(', ')}, but received ${JSON.stringify(m)}.`);
  }
  if (o.worker && !(o.worker.model in BENCH_MODELS)) throw new ValueError(`bench expects --worker to name a model from ${Object.keys(BENCH_MODELS).join(', ')}, but received ${JSON.stringify(o.worker.model)}.`);
  if (o.worker && workerBatch !== undefined) o.worker.inferenceBatch = workerBatch;
  if (o.worker && workerPaired !== undefined) {
    if (!(workerPaired in BENCH_MODELS)) throw new ValueError(`bench expects --worker-paired to name a model from ${Object.keys(BENCH_MODELS).join(', ')}, but received ${JSON.stringify(workerPaired)}.`);
    o.worker.pairedWith = workerPaired;
  }
  if (o.batch < 1 || o.steps < 1) throw new ValueError(`bench expects --batch and --steps >= 1, but received ${o.batch} and ${o.steps}.`);
  if (o.threads < 1) throw new ValueError(`bench expects --threads >= 1, but received ${o.threads}.`);
  if (o.rounds < 1) throw new ValueError(`bench expects --rounds >= 1, but received ${o.rounds}.`);
  return o;
}

/** The plain network (standard 3×3 convs) of the same depth as `model`; null when `model` is one. */
export function plainNetworkOf(model: string): string | null {
  const spec = BENCH_MODELS[model];
  if (!spec || spec.conv === 'standard') return null;
  const plain = Object.keys(BENCH_MODELS).find((m) => BENCH_MODELS[m].depth === spec.depth && BENCH_MODELS[m].conv === 'standard');
  if (!plain) throw new ValueError(`bench expects a plain ResNet-${spec.depth} in BENCH_MODELS for ${model}, but there is none.`);
  return plain;
}

/**
 * The models to run, in order: the requested ones, each variant's plain network before it (added
 * when not requested: `added`), each model once.
 */
export function benchPlan(models: string[]): { run: string[]; added: string[] } {
  const run: string[] = [], added: string[] = [];
  for (const m of models) {
    const plain = plainNetworkOf(m);
    if (plain && !run.includes(plain)) {
      run.push(plain);
      if (!models.includes(plain)) added.push(plain);
    }
    if (!run.includes(m)) run.push(m);
  }
  return { run, added };
}

/** A measurement as a worker or the PyTorch script reports it (one JSON line, parsed). */
export type BenchResult = Record<string, unknown> & { imagesPerSec?: number; inference?: InferenceByBatch; error?: string };

/**
 * One model's rounds (--rounds) as one result: the round with the median images/s (the lower
 * middle for an even count); for inference, per batch size. Failed rounds are left out; when all
 * failed, the first failure.
 */
export function medianRound(rounds: BenchResult[]): BenchResult {
  const ok = rounds.filter((r) => !r.error);
  if (ok.length === 0) return rounds[0];
  const middle = <T>(xs: T[], key: (x: T) => number) => xs.slice().sort((a, b) => key(a) - key(b))[(xs.length - 1) >> 1];
  if (!ok[0].inference) return middle(ok, (r) => r.imagesPerSec ?? 0);
  const batches = Object.keys(ok[0].inference);
  return { ...ok[0], inference: Object.fromEntries(batches.map((b) =>
    [b, middle(ok.map((r) => r.inference![b]).filter((e) => e), (e) => e.imagesPerSec)])) };
}

type RoundSpeeds = (number | null)[];

/** images/s of each round of `rounds` (per batch size for inference; null for a failed round). */
function roundSpeeds(rounds: BenchResult[]): RoundSpeeds | Record<string, RoundSpeeds> {
  if (rounds.some((r) => r.inference)) {
    const batches = Object.keys(rounds.find((r) => r.inference)!.inference!);
    return Object.fromEntries(batches.map((b) => [b, rounds.map((r) => r.inference?.[b]?.imagesPerSec ?? null)]));
  }
  return rounds.map((r) => r.imagesPerSec ?? null);
}

/**
 * Ratio of `a`'s images/s to `b`'s round by round (round i with round i; the plan interleaves the
 * models, so a pair shares the machine's state of the moment), in roundSpeeds' shape: a list for
 * training, a list per batch size for inference; null where either round failed.
 */
export function roundRatios(a: BenchResult[], b: BenchResult[]): RoundSpeeds | Record<string, RoundSpeeds> {
  const sa = roundSpeeds(a), sb = roundSpeeds(b);
  const ratios = (xs: RoundSpeeds, ys: RoundSpeeds | undefined) => xs.map((x, i) => throughputRatio(x, ys?.[i]));
  if (Array.isArray(sa)) return ratios(sa, Array.isArray(sb) ? sb : undefined);
  return Object.fromEntries(Object.entries(sa).map(([batch, xs]) => [batch, ratios(xs, Array.isArray(sb) ? undefined : sb[batch])]));
}

/**
 * The line bench prints for one model (`mode`: what was measured): `ours` plus the ratios. `plain` is the same invocation's
 * result for the model's plain network (ours and PyTorch's), absent for a plain network itself.
 * Ratios whose inputs are missing (a failed run) are null, never left out, so a reader sees that
 * they were expected.
 */
export function benchLine(mode: 'train' | 'inference', ours: BenchResult, pytorch?: BenchResult,
                          plain?: { ours: BenchResult; pytorch?: BenchResult }): Record<string, unknown> {
  const line: Record<string, unknown> = { ...ours };
  // Training lines get `vs<Name>`, inference lines `inferenceVs<Name>` (per batch size).
  const compare = (a: BenchResult, b: BenchResult | undefined, name: 'Standard' | 'Pytorch', into: Record<string, unknown>) => {
    if (mode === 'inference') into[`inferenceVs${name}`] = inferenceRatios(a.inference, b?.inference);
    else into[`vs${name}`] = throughputRatio(a.imagesPerSec, b?.imagesPerSec);
  };
  if (plain) compare(ours, plain.ours, 'Standard', line);
  if (pytorch) {
    const torchLine: Record<string, unknown> = { ...pytorch };
    if (plain && !pytorch.error) compare(pytorch, plain.pytorch, 'Standard', torchLine);
    line.pytorch = torchLine;
    compare(ours, pytorch, 'Pytorch', line);
  }
  return line;
}

/** The last line of a process's stdout as a JSON object, or `{ error }` saying why there is none. */
export function parseResultLine(stdout: string | null, stderr: string | null, status: number | null, who: string): BenchResult {
  const last = (stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as BenchResult;
  } catch { /* reported below */ }
  const why = (stderr ?? '').trim().split('\n').pop() || `exit status ${status}, no JSON line on stdout`;
  return { error: `${who} failed: ${why}` };
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

/** A bench model, built as every worker builds it. */
function benchModel(name: string, o: BenchOptions): tf.LayersModel {
  const spec = BENCH_MODELS[name];
  return createResNet({ depth: spec.depth, conv: spec.conv, placement: spec.placement, seed: 0,
    scconv: o.recompute ? { recompute: true } : undefined });
}

/** One training step of `model` (SGD with momentum and weight decay, batch --batch of random data) per call. */
function trainingPass(model: tf.LayersModel, o: BenchOptions): () => Promise<void> {
  const opt = new SgdMomentum(model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, decay: true })), 0.9, 5e-4);
  const x = tf.randomNormal([o.batch, 32, 32, 3]) as tf.Tensor4D;
  const labels = Int32Array.from({ length: o.batch }, (_, i) => (i * 7) % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  return async () => { await trainStep(model, opt, x, y, labels, 0.1); };
}

/**
 * Measure one task in this process: train `task.model` for warmup + steps on random data, or time
 * its forward pass at `task.inferenceBatch`, or time its training steps in pairs with
 * `task.pairedWith`'s. One result object, with this process's peak RSS (not for pairs).
 */
async function runWorker(task: WorkerTask, o: BenchOptions): Promise<BenchResult> {
  const chosen = await initBackend({ backend: o.backend, threads: o.threads, log: null });
  const model = benchModel(task.model, o);
  const profile = o.profile ? instrumentKernels(tf.getBackend(), o.profileShapes) : null;
  const loop = { steps: o.steps, warmup: o.warmup, warmupSeconds: o.warmupSeconds, minSeconds: o.minSeconds };
  const result: BenchResult = {
    model: task.model, backend: chosen.name, threads: o.threads, batch: task.inferenceBatch ?? o.batch, ...(o.recompute ? { recompute: true } : {}),
    // Trainable weights only, as PyTorch's count (countParams() adds BatchNorm's moving statistics).
    params: model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0),
    steps: o.steps,  // replaced by the number of timed steps below
  };
  if (task.pairedWith !== undefined) {
    const x = task.inferenceBatch !== undefined ? tf.randomNormal([task.inferenceBatch, 32, 32, 3]) as tf.Tensor4D : null;
    const pass = (m: tf.LayersModel) => (x ? forwardPass(m, x) : trainingPass(m, o));
    const paired = await pairedSpeedRatios(pass(benchModel(task.pairedWith, o)), pass(model), loop);
    return { ...result, steps: paired.pairs, [x ? 'inferenceVsStandardPaired' : 'vsStandardPaired']: paired };
  }
  let timed: number;
  if (task.inferenceBatch !== undefined) {
    const x = tf.randomNormal([task.inferenceBatch, 32, 32, 3]) as tf.Tensor4D;
    const t = await timeInference(model, x, { ...loop, afterWarmup: () => profile?.clear() });
    x.dispose();
    timed = t.times.length;
    Object.assign(result, { steps: timed, imagesPerSec: +t.imagesPerSec.toFixed(1), msPerBatch: +t.msPerBatch.toFixed(2) });
  } else {
    const times = await timedLoop(trainingPass(model, o), { ...loop, afterWarmup: () => profile?.clear() });
    const ms = median(times);
    timed = times.length;
    Object.assign(result, { steps: timed, imagesPerSec: +(o.batch / (ms / 1000)).toFixed(1), msPerStep: +ms.toFixed(1) });
  }
  result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (profile) {
    const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, v]) => s + v.ms, 0);
    const what = task.inferenceBatch !== undefined ? `forward pass at batch ${task.inferenceBatch}` : 'step';
    console.error(`per-kernel time, ${task.model}, ms per ${what} (kernels total ${(total / timed).toFixed(1)} ms):`);
    for (const [name, v] of rows.slice(0, Number(process.env.SCCONV_PROFILE_ROWS ?? 25))) {
      console.error(`  ${name.padEnd(34)} ${(v.ms / timed).toFixed(2).padStart(8)} ms  ${(v.calls / timed).toFixed(0).padStart(5)} calls`);
    }
    if (chosen.name === NATIVE_BACKEND_NAME) printFallbacks(task.model);
  }
  return result;
}

/** The batch sizes --inference measures: 1 and --batch. */
export function inferenceBatches(o: Pick<BenchOptions, 'batch'>): number[] {
  return [...new Set([1, o.batch])];
}

/** A worker process (this script with --worker `model` and `extra`) and its result line. */
function runWorkerProcess(model: string, argv: string[], extra: string[]): BenchResult {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--worker', model, ...extra],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return parseResultLine(r.stdout, null, r.status, `the benchmark process for ${model}`);
}

/** Ours for one model: one worker process for training, or one per inference batch size. */
function runOurs(model: string, o: BenchOptions, argv: string[]): BenchResult {
  const child = (extra: string[]) => runWorkerProcess(model, argv, extra);
  if (!o.inference) return child([]);
  const runs = inferenceBatches(o).map((b) => [b, child(['--worker-batch', String(b)])] as const);
  const failed = runs.find(([, r]) => r.error);
  if (failed) return { model, error: failed[1].error };
  const { imagesPerSec: _i, msPerBatch: _m, peakRssMB: _p, batch: _b, steps: _s, ...head } = runs[0][1];
  return {
    ...head, batch: o.batch,
    inference: Object.fromEntries(runs.map(([b, r]) => [String(b), { imagesPerSec: r.imagesPerSec as number,
      msPerBatch: r.msPerBatch as number, peakRssMB: r.peakRssMB as number, steps: r.steps as number }])),
  };
}

/** This package's root folder (bench.ts is src/cli/bench.ts), else the working directory. */
function packageRoot(): string {
  const here = moduleFolder('bench');
  return here ? path.resolve(here, '..', '..') : process.cwd();
}

/**
 * The PyTorch reference models ($SCCONV_TORCH_BENCH, else ../shared/bench/torch_resnet_bench.py next
 * to this checkout or the working directory), which scripts/torch_bench.py imports; null when none.
 */
function torchReference(): string | null {
  const candidates = [process.env.SCCONV_TORCH_BENCH, ...[packageRoot(), process.cwd()].map((d) => path.resolve(d, '..', 'shared', 'bench', 'torch_resnet_bench.py'))];
  return candidates.find((f): f is string => !!f && fs.existsSync(f)) ?? null;
}

/** scripts/torch_bench.py for `modelName`: training, or inference at batch 1 and --batch. */
function runPytorch(modelName: string, o: BenchOptions): BenchResult {
  const reference = torchReference();
  if (!reference) return { error: 'torch_resnet_bench.py not found (set SCCONV_TORCH_BENCH to its path)' };
  const spec = BENCH_MODELS[modelName];
  if (!spec.torch) return { error: `the PyTorch reference script has no ${spec.conv} conv` };
  const python = process.env.SCCONV_PYTHON ?? '/usr/bin/python3';
  // The same OpenMP wait policy as ours (the native addon defaults to passive; see native_addon.ts).
  const env = { ...process.env };
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined) env.OMP_WAIT_POLICY = 'passive';
  const script = path.join(packageRoot(), 'scripts', 'torch_bench.py');
  const r = spawnSync(python, [script, '--reference', reference, '--depth', String(spec.depth), '--conv', spec.conv,
    '--placement', spec.placement ?? 'second', '--batch', String(o.batch), '--threads', String(o.threads),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--warmup-seconds', String(o.warmupSeconds),
    '--min-seconds', String(o.minSeconds), '--measure', o.inference ? 'inference' : 'train'],
  { encoding: 'utf8', env });
  return parseResultLine(r.stdout, r.stderr || r.error?.message || null, r.status, 'the PyTorch run');
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (o.worker) {
    console.log(JSON.stringify(await runWorker(o.worker, o)));
    return 0;
  }
  const plan = benchPlan(o.models);
  for (const plain of plan.added) {
    const variants = o.models.filter((m) => plainNetworkOf(m) === plain);
    console.error(`bench: also running ${plain}, the plain network of ${variants.join(', ')}, for vsStandard ` +
      '(images/s ÷ the plain network\'s in this run).');
  }
  const childArgv = argv.filter((a) => a !== '--vs-pytorch');
  const rounds = new Map<string, { ours: BenchResult[]; pytorch: BenchResult[] }>(plan.run.map((m) => [m, { ours: [], pytorch: [] }]));
  for (let round = 0; round < o.rounds; round++) {
    if (o.rounds > 1) console.error(`bench: round ${round + 1} of ${o.rounds}`);
    for (const m of plan.run) {
      rounds.get(m)!.ours.push(runOurs(m, o, childArgv));
      if (o.vsPytorch) rounds.get(m)!.pytorch.push(runPytorch(m, o));
    }
  }
  const done = new Map<string, { ours: BenchResult; pytorch?: BenchResult }>();
  for (const m of plan.run) {
    const r = rounds.get(m)!;
    const ours = medianRound(r.ours), pytorch = o.vsPytorch ? medianRound(r.pytorch) : undefined;
    const plain = plainNetworkOf(m);
    const line = benchLine(o.inference ? 'inference' : 'train', ours, pytorch, plain ? done.get(plain) : undefined);
    done.set(m, { ours, pytorch });
    const ratioKey = o.inference ? 'inferenceVsStandardRounds' : 'vsStandardRounds';
    const pairedKey = o.inference ? 'inferenceVsStandardPaired' : 'vsStandardPaired';
    const paired = o.paired && plain
      ? runWorkerProcess(m, childArgv, ['--worker-paired', plain, ...(o.inference ? ['--worker-batch', String(o.batch)] : [])])
      : undefined;
    const spread = o.rounds > 1
      ? { rounds: o.rounds, imagesPerSecRounds: roundSpeeds(r.ours), ...(pytorch ? { pytorchImagesPerSecRounds: roundSpeeds(r.pytorch) } : {}),
          ...(plain ? { [ratioKey]: roundRatios(r.ours, rounds.get(plain)!.ours) } : {}) }
      : {};
    console.log(JSON.stringify({
      ...line, ...spread, ...(paired ? { [pairedKey]: paired.error ? { error: paired.error } : paired[pairedKey] } : {}),
      load1: +os.loadavg()[0].toFixed(2),
      ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? (process.env.GOMP_SPINCOUNT ? `GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}` : 'passive'),
    }));
  }
  return 0;
}

if (process.argv[1] && /cli[\\/]bench\.ts$/.test(process.argv[1])) runCli(main);
