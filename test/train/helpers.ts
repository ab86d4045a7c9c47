/**
 * Shared pieces of the trainer tests: tiny CIFAR-10 in the official binary format (written to a
 * temp folder and read back through the real loader) and a tiny, fast run configuration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCifar10, type Cifar10 } from '../../src/data/cifar10';
import type { TrainConfig } from '../../src/train/config';
import { tempDir, tinyCifar, writeFolder } from '../data/fixtures';

export const RECORDS = 8;

/** Write tiny data (RECORDS per batch file) to a temp folder; returns the folder. */
export function writeTinyData(): string {
  const dir = tempDir('scconv-train-');
  writeFolder(dir, tinyCifar(RECORDS, 7));
  return dir;
}

export async function tinyData(dir = writeTinyData()): Promise<Cifar10> {
  return loadCifar10({ source: dir, recordsPerBatch: RECORDS, download: false, onProgress: () => {} });
}

/** Depth-8, width-4 ResNet, 2 batches of 4 images per epoch: a few seconds per epoch on tfjs cpu. */
export function tinyConfig(out: string, overrides: Partial<TrainConfig> = {}): Partial<TrainConfig> {
  return {
    depth: 8, width: 4, conv: 'standard', batch: 4, maxTrain: 8, maxTest: 8, betaBatch: 0,
    epochs: 2, lr: 0.05, seed: 3, out, ...overrides,
  };
}

export function runDir(): string {
  return path.join(tempDir('scconv-run-'), 'run');
}

/** The checkpoint's weights and velocities, for exact comparisons. */
export function checkpointArrays(run: string): Float32Array {
  return new Float32Array(fs.readFileSync(path.join(run, 'checkpoint', 'tensors.bin')).buffer.slice(0));
}

/** metrics.jsonl rows without the timing fields (which differ between runs). */
export function metricsWithoutTimes(run: string): Record<string, unknown>[] {
  return fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { imagesPerSec: _a, epochSeconds: _b, wallSeconds: _c, ...rest } = JSON.parse(l);
    return rest;
  });
}
