/**
 * Checkpoints: everything needed to continue a run exactly, in `RUN/checkpoint/`:
 *   state.json   epoch, step in epoch, partial epoch sums, RNG state, config, optimizer scalars,
 *                a manifest (name, shape, byte offset) of every array, and the sha256 of tensors.bin
 *   tensors.bin  the model weights (BatchNorm moving statistics included) and the SGD velocities,
 *                raw little-endian float32, so a round trip is bit-exact
 *
 * Written atomically: into `checkpoint.tmp/`, fsync'd, then swapped in with renames; the previous
 * checkpoint stays as `checkpoint.old/`. A crash at any point leaves a readable checkpoint, and a
 * `checkpoint/` that was damaged later (a truncated copy, a bad disk) falls back to `checkpoint.old/`.
 */
import { createHash } from 'node:crypto';
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
    sha256: createHash('sha256').update(blob).digest('hex'), // of tensors.bin: catches corruption of the right size
  };
  writeFileSynced(path.join(tmp, 'tensors.bin'), new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength));
  writeFileSynced(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  syncDir(tmp);

  if (fs.existsSync(final)) {
    fs.rmSync(old, { recursive: true, force: true });
    fs.renameSync(final, old);
  }
  fs.renameSync(tmp, final);
  syncDir(runDir);
}

/** The first non-finite value of `arrays` (name, flat index, value), or null when all are finite. */
export function firstNonFinite(arrays: NamedArray[]): { name: string; index: number; value: number } | null {
  for (const a of arrays) {
    const index = a.values.findIndex((v) => !Number.isFinite(v));
    if (index >= 0) return { name: a.name, index, value: a.values[index] };
  }
  return null;
}

const CANDIDATES = ['checkpoint', 'checkpoint.old']; // newest first

/** The checkpoint folder to read in `runDir` (the newest holding a state.json), or null when the run has none. */
export function findCheckpoint(runDir: string): string | null {
  for (const name of CANDIDATES) {
    const dir = path.join(runDir, name);
    if (fs.existsSync(path.join(dir, 'state.json'))) return dir;
  }
  return null;
}

/**
 * Read the newest readable checkpoint of `runDir`. A damaged `checkpoint/` (truncated or corrupt
 * state.json or tensors.bin) falls back to `checkpoint.old/`, saying so through `log`; when none is
 * readable, a DataError names the file and what is wrong with it.
 */
export function loadCheckpoint(runDir: string, log: (line: string) => void = () => {}): Checkpoint {
  const dirs = CANDIDATES.map((n) => path.join(runDir, n)).filter((d) => fs.existsSync(path.join(d, 'state.json')));
  if (dirs.length === 0) throw new DataError(`loadCheckpoint expects ${path.join(runDir, 'checkpoint', 'state.json')}, but it does not exist: the run has no checkpoint yet.`);
  const errors: DataError[] = [];
  for (const dir of dirs) {
    try {
      const ckpt = readCheckpoint(dir);
      if (errors.length) log(`${errors[0].message} Resuming from the previous checkpoint ${dir} (${ckpt.epoch} epochs${ckpt.step ? ` + ${ckpt.step} batches` : ''}) instead.`);
      return ckpt;
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      errors.push(e);
    }
  }
  const fix = dirs.length > 1 ? ' The previous checkpoint is damaged too.' : ' There is no previous checkpoint to fall back to.';
  throw new DataError(`${errors[0].message}${fix} Start over with --restart (or in another --out).`);
}

/** One checkpoint folder; a missing, truncated or foreign file is a DataError naming it. */
function readCheckpoint(dir: string): Checkpoint {
  const stateFile = path.join(dir, 'state.json');
  let state;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new DataError(`loadCheckpoint expects JSON in ${stateFile}, but it does not parse (${e.message}): the file is truncated or corrupt.`);
  }
  if (state?.format !== FORMAT) throw new DataError(`loadCheckpoint expects format ${FORMAT} in ${stateFile}, but received ${JSON.stringify(state?.format)}.`);
  if (!Number.isInteger(state.floats) || !Array.isArray(state.weights) || !Array.isArray(state.optimizer?.velocities)) {
    throw new DataError(`loadCheckpoint expects floats, weights and optimizer.velocities in ${stateFile}, but one is missing: the file is corrupt.`);
  }
  const binFile = path.join(dir, 'tensors.bin');
  if (!fs.existsSync(binFile)) throw new DataError(`loadCheckpoint expects ${binFile} next to ${stateFile}, but it does not exist.`);
  const bytes = fs.readFileSync(binFile);
  if (bytes.length !== state.floats * 4) {
    throw new DataError(`loadCheckpoint expects ${binFile} of ${state.floats * 4} bytes, but it has ${bytes.length}: the file is truncated or corrupt.`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (state.sha256 !== undefined && state.sha256 !== sha256) { // checkpoints before the checksum have none
    throw new DataError(`loadCheckpoint expects ${binFile} with sha256 ${state.sha256} (from ${stateFile}), but it has ${sha256}: the file is corrupt.`);
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
