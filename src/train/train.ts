/**
 * The training loop, nanoGPT style: one function, labelled stages, everything it needs to resume
 * in one checkpoint. See config.ts for the recipe and the seed blog's options.
 *
 *   const summary = await train({ depth: 20, conv: 'scconv', epochs: 200 });
 *
 * Run folder (config.out): config.json, metrics.jsonl (a row per epoch), snapshots.jsonl (SRU/CRU
 * per epoch, snapshots.ts), checkpoint/ (every epoch, and mid-epoch when a stop is requested; the
 * one before is checkpoint.old/), summary.json (when the run ends), lock (while a trainer runs).
 * What may be done to a folder: run_folder.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors';
import { batchCount, batches } from '../data/batches';
import { loadCifar10, type Cifar10 } from '../data/cifar10';
import { createResNet } from '../models/resnet';
import { countFlops, countParams } from '../analysis/complexity';
import type { TrainConfig } from './config';
import { firstNonFinite, saveCheckpoint, type Checkpoint } from './checkpoint';
import { betaMeans, setSRU } from './monitor';
import { appendMetrics, readMetrics, writeJson } from './run_files';
import { openRunFolder, runFolderError } from './run_folder';
import { appendSnapshot, probeBatch } from './snapshots';
import { learningRate, sruThreshold } from './schedule';
import { SgdMomentum } from './sgd';
import { evaluate, trainStep } from './step';
import { transferWeights } from './transfer';

/** One row of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number; // 1-based: epochs completed including this one
  conv: string; // the conv trained this epoch ('standard' before a switch)
  lr: number;
  threshold: number; // SRU gate threshold used
  sru: boolean; // SRU on (false during sruOffEpochs)
  trainLoss: number;
  trainAcc: number;
  testAcc: number;
  imagesPerSec: number; // training images per second (evaluation excluded)
  epochSeconds: number; // training + evaluation
  wallSeconds: number; // since the run began, summed over resumes
  betas: Record<string, [number, number]>; // layer → [mean β1, mean β2] (Eq. 6) on a fixed test batch
}

export type TrainStatus = 'done' | 'budget' | 'nan' | 'interrupted';

export interface TrainSummary {
  status: TrainStatus;
  message: string;
  epochsTrained: number;
  epochsPlanned: number;
  bestTestAcc: number;
  finalTestAcc: number;
  params: number;
  flops: number;
  dataLabel: string;
  backend: string;
  machine: string;
  wallSeconds: number;
  /** Training throughput of this invocation (images / seconds in training steps), also for a partial epoch. */
  imagesPerSec: number;
  out: string;
}

export interface StepInfo {
  epoch: number; // 0-based epoch being trained
  step: number; // batches done in this epoch
  steps: number; // batches per epoch
  seen: number; // images trained in this epoch
  images: number; // images per epoch
  loss: number; // this batch
}

export interface TrainHooks {
  /** Already-loaded data (tests, `npm start`); otherwise loaded from config.data. */
  data?: Cifar10;
  /** Continue from the checkpoint in config.out (a fresh run when there is none). */
  resume?: boolean;
  /** Delete config.out's results and checkpoints and start over (see run_folder.ts). */
  restart?: boolean;
  /** Before the first batch of an epoch (also a resumed one: `info.step` batches are already done). */
  onEpochStart?: (info: Omit<StepInfo, 'loss'>) => void;
  onStep?: (info: StepInfo) => void;
  onEpoch?: (row: EpochMetrics, model: tf.LayersModel) => void;
  /** Polled after every batch; true → write a checkpoint and return status 'interrupted'. */
  stopRequested?: () => boolean;
  log?: (line: string) => void;
}

/** The conv trained in epoch `epoch` (0-based): standard before the seed blog's switch. */
const convAt = (c: TrainConfig, epoch: number) => (epoch < c.standardEpochs ? 'standard' : c.conv);

/** The model a TrainConfig describes (with `conv` in its block convs): one mapping for training and reports. */
export function buildModel(c: TrainConfig, conv: TrainConfig['conv'] = c.conv): tf.LayersModel {
  return createResNet({
    depth: c.depth, width: c.width, conv, placement: c.placement, shortcut: c.shortcut, seed: c.seed,
    scconv: { alpha: c.alpha, gate: c.gate, fusion: c.fusion, threshold: c.threshold, parts: c.scconvParts, recompute: c.scconvRecompute },
  });
}

/** SGD over the trainable weights; decay on conv/dense kernels (rank >= 2) or, with decay 'all', on every weight. */
export function buildOptimizer(model: tf.LayersModel, c: Pick<TrainConfig, 'momentum' | 'weightDecay' | 'decay'>): SgdMomentum {
  const params = model.trainableWeights.map((w) => ({
    name: w.name, variable: w.read() as tf.Variable, decay: c.decay === 'all' || w.shape.length >= 2,
  }));
  return new SgdMomentum(params, c.momentum, c.weightDecay);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function train(overrides: Partial<TrainConfig>, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const run = openRunFolder(overrides, { resume: hooks.resume, restart: hooks.restart, log: hooks.log ?? (() => {}) });
  try {
    return run.finished ?? (await trainLocked(run.config, run.ckpt, hooks));
  } catch (e) {
    throw runFolderError(e, run.config.out) ?? e;
  } finally {
    run.lock.release();
  }
}

/** The run itself, in a run folder that openRunFolder has locked and prepared. */
async function trainLocked(config: TrainConfig, ckpt: Checkpoint | null, hooks: TrainHooks): Promise<TrainSummary> {
  const started = Date.now();
  const log = hooks.log ?? (() => {});
  // ---- data ------------------------------------------------------------------------------
  const data = hooks.data ?? (await loadCifar10({ source: config.data || undefined }));
  const limit = (n: number) => (n > 0 ? n : undefined);
  const trainOpts = { batchSize: config.batch, shuffle: true, augment: config.augment, seed: config.seed, limit: limit(config.maxTrain) };
  const testOpts = { batchSize: 500, limit: limit(config.maxTest) };
  const steps = batchCount(data.train, trainOpts);
  const images = Math.min(data.train.count, limit(config.maxTrain) ?? Infinity);
  const probe = config.betaBatch > 0 ? batches(data.test, { batchSize: config.betaBatch }).next().value : undefined;
  const snapProbe = config.snapshots ? probeBatch(data.test) : undefined;

  // ---- model and optimizer ---------------------------------------------------------------
  let epoch = ckpt?.epoch ?? 0;
  let step = ckpt?.step ?? 0;
  let partial = ckpt?.partial ?? { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
  // A checkpoint at an epoch boundary holds the model that trained the epoch before it.
  let modelConv = convAt(config, ckpt && step === 0 && epoch > 0 ? epoch - 1 : epoch);
  let model = buildModel(config, modelConv);
  let opt = buildOptimizer(model, config);
  if (ckpt) {
    const saved = ckpt.weights;
    if (saved.length !== model.weights.length || saved.some((w, i) => w.shape.join() !== model.weights[i].shape.join())) {
      throw new ValueError(`train expects the checkpoint in ${config.out} to fit the model of its config, but its weights differ in number or shape.`);
    }
    tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(saved[i].values, saved[i].shape))));
    opt.loadState(ckpt.optimizer);
  }
  let best = ckpt?.bestTestAcc ?? 0;
  let last = readMetrics<EpochMetrics>(config.out, log).at(-1);
  const wallBefore = ckpt?.wallSeconds ?? 0;
  const wall = () => wallBefore + (Date.now() - started) / 1000;
  const throughput = { images: 0, seconds: 0 }; // this invocation's training steps

  const progress = (e: number, s: number) => `${e} epochs${s ? ` + ${s} batches` : ''}`;
  let saved = ckpt ? progress(ckpt.epoch, ckpt.step) : ''; // what the checkpoint on disk holds
  const kept = () => (saved ? `the last good checkpoint (${saved}) is kept in ${path.join(config.out, 'checkpoint')}` : 'no checkpoint was written yet');
  // Reads weights and velocities asynchronously: webgpu in Node has no synchronous read.
  // A non-finite weight or velocity (possible with a finite loss) is never checkpointed: returns why instead.
  const save = async (): Promise<string | null> => {
    const values = await Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>));
    const optimizer = await opt.state();
    const weights = model.weights.map((w, i) => ({ name: w.name, shape: w.shape as number[], values: values[i] }));
    const bad = firstNonFinite(weights) ?? firstNonFinite(optimizer.velocities.map((v) => ({ ...v, name: `the SGD velocity of ${v.name}` })));
    if (bad) return `stopped: ${bad.name}[${bad.index}] became ${bad.value} after ${progress(epoch, step)}, so no checkpoint was written; ${kept()}. Try a lower --lr.`;
    saved = progress(epoch, step);
    saveCheckpoint(config.out, {
      epoch, step, partial, rng: { seed: config.seed, epoch, step }, config, bestTestAcc: best, wallSeconds: wall(), weights, optimizer,
    });
    return null;
  };
  /** Checkpoint, then end with `status`, or with 'nan' when the weights are not finite. */
  const saveAndFinish = async (status: TrainStatus, message: string) => {
    const bad = await save();
    return bad ? finish('nan', bad) : finish(status, message);
  };
  const finish = (status: TrainStatus, message: string): TrainSummary => {
    const summary: TrainSummary = {
      status, message, epochsTrained: epoch, epochsPlanned: config.epochs, bestTestAcc: best,
      finalTestAcc: last?.testAcc ?? NaN, params: countParams(model), flops: countFlops(model, [32, 32, 3]),
      dataLabel: data.label, backend: tf.getBackend(), wallSeconds: wall(), out: config.out,
      imagesPerSec: throughput.images / throughput.seconds,
      machine: `${os.cpus().length}× ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.arch()}, node ${process.version}`,
    };
    writeJson(path.join(config.out, 'summary.json'), summary);
    opt.dispose();
    model.dispose();
    if (probe) tf.dispose([probe.x, probe.y]);
    if (snapProbe) tf.dispose([snapProbe.x, snapProbe.y]);
    log(message);
    return summary;
  };

  while (epoch < config.epochs) {
    // ---- stop before an epoch that would overrun the budget ------------------------------
    const budget = config.budgetMinutes * 60;
    if (budget > 0 && step === 0 && last && (Date.now() - started) / 1000 + last.epochSeconds > budget) {
      return finish('budget', `stopped after epoch ${epoch} of ${config.epochs}: the next epoch (~${last.epochSeconds.toFixed(0)} s) would overrun --budget-minutes ${config.budgetMinutes}. Continue with --resume.`);
    }
    // ---- the seed blog's switch: standard convs → config.conv, keeping what fits ---------
    if (modelConv !== convAt(config, epoch)) {
      modelConv = convAt(config, epoch);
      const next = buildModel(config, modelConv);
      const nextOpt = buildOptimizer(next, config);
      const copied = transferWeights(model, next, opt, nextOpt);
      opt.dispose();
      model.dispose();
      [model, opt] = [next, nextOpt];
      log(`epoch ${epoch + 1}: switched to ${modelConv}; ${copied.length} layers and their SGD velocities transferred`);
    }
    // ---- per-epoch settings --------------------------------------------------------------
    const lr = learningRate(config, epoch);
    const threshold = sruThreshold(config, epoch);
    const sruOn = epoch >= config.sruOffEpochs;
    setSRU(model, threshold, sruOn);
    const t0 = Date.now() - partial.seconds * 1000;
    hooks.onEpochStart?.({ epoch, step, steps, seen: partial.seen, images });

    // ---- train one epoch (batches depend only on seed and epoch) --------------------------
    let i = 0;
    for (const b of batches(data.train, { ...trainOpts, epoch })) {
      if (i++ < step) { tf.dispose([b.x, b.y]); continue; } // trained before the resume
      const stepStart = Date.now();
      const r = await trainStep(model, opt, b.x, b.y, b.labels, lr);
      const stepSeconds = (Date.now() - stepStart) / 1000;
      throughput.images += b.labels.length;
      throughput.seconds += stepSeconds;
      tf.dispose([b.x, b.y]);
      if (!Number.isFinite(r.loss)) {
        return finish('nan', `stopped: the loss became ${r.loss} at epoch ${epoch + 1}, batch ${i} (lr ${lr}); ${kept()}. Try a lower --lr.`);
      }
      step = i;
      partial = { lossSum: partial.lossSum + r.loss * b.labels.length, correct: partial.correct + r.correct, seen: partial.seen + b.labels.length, seconds: (Date.now() - t0) / 1000 };
      hooks.onStep?.({ epoch, step, steps, seen: partial.seen, images, loss: r.loss });
      await yieldToEventLoop(); // lets SIGINT/SIGTERM handlers run
      if (budget > 0 && step < steps && (Date.now() - started) / 1000 + stepSeconds > budget) {
        // the next batch would overrun: stop mid-epoch, resumable exactly
        return saveAndFinish('budget', `stopped at epoch ${epoch + 1}, batch ${step} of ${steps}: the next batch (~${stepSeconds.toFixed(0)} s) would overrun --budget-minutes ${config.budgetMinutes}; checkpoint written. Continue exactly with --resume.`);
      }
      if (hooks.stopRequested?.()) {
        return saveAndFinish('interrupted', `interrupted at epoch ${epoch + 1}, batch ${step} of ${steps}; checkpoint written to ${path.join(config.out, 'checkpoint')}. Continue exactly with --resume.`);
      }
    }
    const trainSeconds = (Date.now() - t0) / 1000;

    // ---- evaluate, log, checkpoint --------------------------------------------------------
    const testAcc = await evaluate(model, batches(data.test, testOpts));
    const row: EpochMetrics = {
      epoch: epoch + 1, conv: modelConv, lr, threshold, sru: sruOn,
      trainLoss: partial.lossSum / partial.seen, trainAcc: partial.correct / partial.seen, testAcc,
      imagesPerSec: images / trainSeconds, epochSeconds: (Date.now() - t0) / 1000, wallSeconds: wall(),
      betas: probe ? await betaMeans(model, probe.x) : {},
    };
    appendMetrics(config.out, row);
    if (snapProbe) await appendSnapshot(config.out, model, snapProbe.x, epoch + 1);
    best = Math.max(best, testAcc);
    last = row;
    epoch++;
    step = 0;
    partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
    const bad = await save();
    if (bad) return finish('nan', bad);
    hooks.onEpoch?.(row, model);
  }
  return finish('done', `finished ${config.epochs} epochs: test accuracy ${(100 * (last?.testAcc ?? NaN)).toFixed(2)}% (best ${(100 * best).toFixed(2)}%) on ${data.label}.`);
}
