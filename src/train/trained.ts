/**
 * Trained networks by name, the way timm hands out pretrained models:
 *
 *   const { model, config, metrics, card } = await loadTrained('resnet20_scconv');
 *
 * The weights are the final checkpoints of the converged CIFAR-10 runs committed under
 * `reports/converged/` (run folder: config.json, metrics.jsonl, summary.json, checkpoint/), so a
 * trained model is also a run that `npm run train -- --resume --out <its folder>` can continue.
 * `reports/converged/trained.json` lists them: name → run folder (relative to that file), and the
 * accuracy recorded with the weights on a fixed slice of the test set (the first `images` test
 * images), which `npm run trained` re-measures (`--full` on all 10,000 images).
 *
 * Names follow `createModel`'s registry (`resnet20`, `resnet20_scconv`); a seed other than 0 is a
 * tag after a dot, timm style: `resnet20_scconv.seed1`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, ValueError } from '../errors';
import { moduleFolder } from '../util/module_folder';
import { loadCheckpoint } from './checkpoint';
import { resolveConfig, type TrainConfig } from './config';
import { readMetrics } from './run_files';
import { buildModel, type EpochMetrics, type TrainSummary } from './train';

/** One entry of trained.json. */
export interface TrainedEntry {
  /** The run folder, relative to trained.json. */
  run: string;
  /** Correct top-1 predictions on the first `images` test images, measured with these weights. */
  slice: { images: number; correct: number; data: string };
  /** Accuracy on the whole test set, measured with these weights. */
  testAcc: number;
}

/** What a shipped model is: how far it was trained, on what, and how well it does. */
export interface TrainedCard {
  name: string;
  epochsTrained: number;
  epochsPlanned: number;
  /** Test accuracy after the last trained epoch, and the best over the run (metrics.jsonl). */
  testAcc: number;
  bestTestAcc: number;
  dataLabel: string;
  slice: TrainedEntry['slice'];
}

export interface Trained {
  name: string;
  model: tf.LayersModel;
  config: TrainConfig;
  metrics: EpochMetrics[];
  runDir: string;
  card: TrainedCard;
}

/** Where the registry lives, relative to the package root. */
export const TRAINED_INDEX = path.join('reports', 'converged', 'trained.json');

/** This package's root: up from this file (tsx, tslab, node) or else from the working directory. */
function packageRoot(): string {
  const starts = [moduleFolder('trained'), process.cwd()].filter((d): d is string => !!d);
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, TRAINED_INDEX))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new DataError(`loadTrained expects ${TRAINED_INDEX} in the scconv-tfjs package, but found none above ${starts.join(' or ')}.`);
}

/** The registry: name → entry, and the folder it lives in. */
export function readTrainedIndex(indexFile = path.join(packageRoot(), TRAINED_INDEX)): { dir: string; entries: Record<string, TrainedEntry> } {
  let entries: Record<string, TrainedEntry>;
  try {
    entries = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new DataError(`loadTrained expects ${indexFile} to be readable JSON, but reading it failed: ${(e as Error).message}`);
  }
  return { dir: path.dirname(indexFile), entries };
}

/** Names of the shipped trained models, sorted. */
export function listTrained(): string[] {
  return Object.keys(readTrainedIndex().entries).sort();
}

/** The run folder of `name` and its registry entry. */
export function trainedEntry(name: string, indexFile?: string): { runDir: string; entry: TrainedEntry } {
  const { dir, entries } = readTrainedIndex(indexFile);
  const entry = entries[name];
  if (!entry) throw new ValueError(`loadTrained expects one of ${Object.keys(entries).sort().join(', ')}, but received ${JSON.stringify(name)}.`);
  return { runDir: path.join(dir, entry.run), entry };
}

/**
 * The trained model `name` with its config, learning curves and card. `runDir` loads any run
 * folder with a checkpoint instead (a run of your own); its card then has no recorded slice.
 * `index` reads another registry than the package's trained.json.
 */
export async function loadTrained(name: string, options: { runDir?: string; index?: string } = {}): Promise<Trained> {
  const { runDir, entry } = options.runDir
    ? { runDir: options.runDir, entry: undefined }
    : trainedEntry(name, options.index);
  const ckpt = loadCheckpoint(runDir);
  const config = resolveConfig(ckpt.config); // a run saved before a key existed gets its default
  const model = buildModel(config);
  if (ckpt.weights.length !== model.weights.length || ckpt.weights.some((w, i) => w.shape.join() !== model.weights[i].shape.join())) {
    model.dispose();
    throw new DataError(`loadTrained expects the checkpoint in ${runDir} to fit the model of its config.json, but its weights differ in number or shape.`);
  }
  tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(ckpt.weights[i].values, ckpt.weights[i].shape))));
  const metrics = readMetrics<EpochMetrics>(runDir);
  const summaryFile = path.join(runDir, 'summary.json');
  const summary = fs.existsSync(summaryFile) ? (JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as TrainSummary) : undefined;
  const card: TrainedCard = {
    name,
    epochsTrained: ckpt.epoch,
    epochsPlanned: config.epochs,
    testAcc: metrics.at(-1)?.testAcc ?? NaN,
    bestTestAcc: metrics.reduce((best, r) => Math.max(best, r.testAcc), 0),
    dataLabel: summary?.dataLabel ?? entry?.slice.data ?? 'unknown',
    slice: entry?.slice ?? { images: 0, correct: 0, data: '' },
  };
  return { name, model, config, metrics, runDir, card };
}
