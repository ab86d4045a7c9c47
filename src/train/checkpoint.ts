/**
 * Checkpoints: everything needed to continue a run exactly, in `RUN/checkpoint/`:
 *   state.json   epoch, step in epoch, partial epoch sums, RNG state, config, optimizer scalars,
 *                and a manifest (name, shape, byte offset) of every array
 *   tensors.bin  the model weights (BatchNorm moving statistics included) and the SGD velocities,
 *                raw little-endian float32, so a round trip is bit-exact
 *
 * Written atomically: into `checkpoint.tmp/`, fsync'd, then swapped in with renames. A crash at any
 * point leaves either the previous checkpoint or the new one readable (`checkpoint.old/` is the
 * fallback for the instant between the two renames).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import type { TrainConfig } from './config';
import { writeFileSynced } from './run_files';
import type { SgdState } from './sgd';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface Checkpoint {
  /** Completed epochs. */
  epoch: number;
  /** Batches already trained in epoch `epoch` (0 at an epoch boundary). */
  step: number;
  /** Running sums of the unfinished epoch (zeros at a boundary). */
  partial: { lossSum: number; correct: number; seen: number; seconds: number };
  /** Batches depend only on (seed, epoch); `step` says how many of that epoch's are consumed. */
  rng: { seed: number; epoch: number; step: number };
  config: TrainConfig;
  bestTestAcc: number;
  /** Training wall time summed over every invocation of the run. */
  wallSeconds: number;
  weights: NamedArray[];
  optimizer: SgdState;
}

const FORMAT = 'scconv-tfjs-checkpoint/1';

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** Write `ckpt` to `RUN/checkpoint/` atomically (see the module comment). */
export function saveCheckpoint(runDir: string, ckpt: Checkpoint): void {
  const final = path.join(runDir, 'checkpoint');
  const tmp = final + '.tmp';
  const old = final + '.old';
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });

  const arrays = [...ckpt.weights, ...ckpt.optimizer.velocities];
  const total = arrays.reduce((s, a) => s + a.values.length, 0);
  const blob = new Float32Array(total);
  const manifest = (list: NamedArray[], start: number) => {
    let offset = start;
    return list.map((a) => {
      blob.set(a.values, offset);
      const entry = { name: a.name, shape: a.shape, offset };
      offset += a.values.length;
      return entry;
    });
  };
  const weights = manifest(ckpt.weights, 0);
  const velocities = manifest(ckpt.optimizer.velocities, weights.reduce((s, _, i) => s + ckpt.weights[i].values.length, 0));
  const state = {
    format: FORMAT,
    epoch: ckpt.epoch, step: ckpt.step, partial: ckpt.partial, rng: ckpt.rng, config: ckpt.config,
    bestTestAcc: ckpt.bestTestAcc, wallSeconds: ckpt.wallSeconds,
    optimizer: { momentum: ckpt.optimizer.momentum, weightDecay: ckpt.optimizer.weightDecay, velocities },
    weights,
    floats: total,
  };
  writeFileSynced(path.join(tmp, 'tensors.bin'), new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength));
  writeFileSynced(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  syncDir(tmp);

  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(tmp, final);
  syncDir(runDir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The checkpoint folder to read in `runDir`, or null when the run has none. */
export function findCheckpoint(runDir: string): string | null {
  for (const name of ['checkpoint', 'checkpoint.old']) {
    const dir = path.join(runDir, name);
    if (fs.existsSync(path.join(dir, 'state.json'))) return dir;
  }
  return null;
}

/** Read the checkpoint of `runDir`; a missing, truncated or foreign one is a DataError naming the file. */
export function loadCheckpoint(runDir: string): Checkpoint {
  const dir = findCheckpoint(runDir);
  if (!dir) throw new DataError(`loadCheckpoint expects ${path.join(runDir, 'checkpoint', 'state.json')}, but it does not exist: the run has no checkpoint yet.`);
  const stateFile = path.join(dir, 'state.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  if (state.format !== FORMAT) throw new DataError(`loadCheckpoint expects format ${FORMAT} in ${stateFile}, but received ${JSON.stringify(state.format)}.`);
  const binFile = path.join(dir, 'tensors.bin');
  const bytes = fs.readFileSync(binFile);
  if (bytes.length !== state.floats * 4) {
    throw new DataError(`loadCheckpoint expects ${binFile} of ${state.floats * 4} bytes, but it has ${bytes.length}: the file is truncated or corrupt.`);
  }
  const blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const read = (list: { name: string; shape: number[]; offset: number }[]): NamedArray[] =>
    list.map(({ name, shape, offset }) => ({ name, shape, values: blob.slice(offset, offset + shape.reduce((a, b) => a * b, 1)) }));
  return {
    epoch: state.epoch, step: state.step, partial: state.partial, rng: state.rng, config: state.config,
    bestTestAcc: state.bestTestAcc, wallSeconds: state.wallSeconds,
    weights: read(state.weights),
    optimizer: { momentum: state.optimizer.momentum, weightDecay: state.optimizer.weightDecay, velocities: read(state.optimizer.velocities) },
  };
}
