/**
 * Per-epoch snapshots of what SCConv's units decide, small enough to keep every epoch of a long
 * run: one JSON line per epoch in `RUN/snapshots.jsonl`, for plots of the gates and fusion weights
 * "over epochs" without reloading a checkpoint per epoch.
 *
 * On a fixed probe batch (the first PROBE_IMAGES test images), for every SRU (paper Eq. 1–3):
 *   γ and w_γ = γ / Σγ per channel (Eq. 2);
 *   the informative fraction per channel: the share of positions (probe images × H × W) with
 *     w > t, i.e. where the gate W1 passes x whole (m = [w > t], Eq. 3);
 *   per probe image an H×W map of how many channels are informative at each position
 *     (Σ_c m), kept exactly as uint8 counts (C ≤ 255), deflated and base64-encoded; decoded as
 *     fractions of C;
 * and for every CRU the per-channel means of β1, β2 over the probe images (Eq. 6–8).
 * The per-channel numbers keep 4 significant digits.
 *
 * Size, SCConv-ResNet-20 (9 SRUs and CRUs of 16/32/64 channels, placement 'second'): the raw
 * counts would be 9 × 4 maps of 32², 16², 8² bytes, 21.6 KB in base64, and the per-channel
 * numbers about 10 KB, over the 30 KB a line we aim for; deflated, a line with trained-looking γ
 * is 20.8 KB (measured in test/train/snapshots.test.ts), 4.2 MB over 200 epochs.
 */
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../errors';
import { batches } from '../data/batches';
import type { CifarSplit } from '../data/cifar10';
import { normalizedGamma } from '../layers/group_norm';
import { SCConv } from '../layers/scconv';
import { SRU } from '../layers/sru';
import { betaSources, betasPerChannel, layerInputs } from './monitor';
import { appendMetrics, readMetrics } from './run_files';

export const SNAPSHOTS_FILE = 'snapshots.jsonl';
/** Test images in the probe batch. */
export const PROBE_IMAGES = 4;

/** One SRU in one epoch, as decoded by `readSnapshots`. */
export interface SRUSnapshot {
  layer: string; // the SCConv (or SRU) layer's name
  threshold: number; // t of Eq. 3 at the time of the snapshot
  height: number;
  width: number;
  gamma: number[]; // [C] GroupNorm γ
  wGamma: number[]; // [C] γ / Σγ (Eq. 2)
  informative: number[]; // [C] share of probe positions with w > t
  maps: number[][][]; // [image][row][col]: fraction of the C channels with w > t at that position
}

/** One CRU in one epoch: per-channel β means over the probe images. */
export interface CRUSnapshot {
  layer: string;
  beta1: number[]; // [C]
  beta2: number[]; // [C]
}

export interface EpochSnapshot {
  epoch: number; // 1-based, as in metrics.jsonl
  images: number; // probe images
  sru: SRUSnapshot[];
  cru: CRUSnapshot[];
}

/** The line as stored: `maps` are base64 strings of uint8 channel counts (row-major H×W). */
type StoredSRU = Omit<SRUSnapshot, 'maps'> & { channels: number; maps: string[] };
type StoredSnapshot = Omit<EpochSnapshot, 'sru'> & { sru: StoredSRU[] };

/** The probe batch: the first PROBE_IMAGES images of `test`, normalised as for evaluation, and their labels. The caller disposes x and y. */
export function probeBatch(test: CifarSplit): { x: tf.Tensor4D; y: tf.Tensor; labels: ArrayLike<number> } {
  const b = batches(test, { batchSize: PROBE_IMAGES, limit: PROBE_IMAGES }).next().value!;
  return { x: b.x as tf.Tensor4D, y: b.y, labels: b.labels };
}

/** The layers of `model` with an SRU whose input a tap model can reach (SCConvs except the 'cru' variant, and SRUs). */
function sruLayers(model: tf.LayersModel): (SCConv | SRU)[] {
  return model.layers.filter((l) => l instanceof SRU || (l instanceof SCConv && l.sruLayer)) as (SCConv | SRU)[];
}
const sruOf = (l: SCConv | SRU): SRU => (l instanceof SRU ? l : l.sru);

/** 4 significant digits: enough for plots, and keeps the line small. */
const round = (v: ArrayLike<number>) => Array.from(v, (x) => Number(x.toPrecision(4)));

/** The snapshot of `model` after epoch `epoch` on the probe images `x`, in its stored (encoded) form. */
async function computeSnapshot(model: tf.LayersModel, x: tf.Tensor4D, epoch: number): Promise<StoredSnapshot> {
  const srus = sruLayers(model);
  const cruNames = betaSources(model).map((l) => l.name);
  const tensors = tf.tidy(() => {
    const inputs = layerInputs(model, srus, x);
    const perSRU = srus.map((layer, i) => {
      const sru = sruOf(layer);
      const gamma = tf.clone(sru.gamma!.read()); // a copy: the variable itself must survive the dispose below
      const m = tf.cast(tf.greater(layer.gates(inputs[i]).w, sru.options.threshold), 'float32'); // Eq. 3: [w > t]
      return [gamma, normalizedGamma(gamma), tf.mean(m, [0, 1, 2]), tf.cast(tf.sum(m, 3), 'int32')];
    });
    return { perSRU, betas: betasPerChannel(model, x) };
  });
  const all = [...tensors.perSRU.flat(), ...tensors.betas];
  let values: (Float32Array | Int32Array)[];
  try {
    values = (await Promise.all(all.map((t) => t.data()))) as (Float32Array | Int32Array)[]; // webgpu in Node has no sync read
  } finally {
    tf.dispose(all);
  }
  const sru: StoredSRU[] = srus.map((layer, i) => {
    const [gamma, wGamma, informative, counts] = values.slice(4 * i, 4 * i + 4);
    const [, height, width] = tensors.perSRU[i][3].shape;
    const channels = gamma.length;
    const plane = height * width;
    const maps = Array.from({ length: x.shape[0] }, (_, k) =>
      zlib.deflateRawSync(Uint8Array.from(counts.subarray(k * plane, (k + 1) * plane))).toString('base64'));
    return {
      layer: layer.name, threshold: sruOf(layer).options.threshold, height, width, channels,
      gamma: round(gamma), wGamma: round(wGamma), informative: round(informative), maps,
    };
  });
  const cru: CRUSnapshot[] = cruNames.map((layer, i) => {
    const b = values[4 * srus.length + i];
    const c = b.length / 2;
    return { layer, beta1: round(b.subarray(0, c)), beta2: round(b.subarray(c)) };
  });
  return { epoch, images: x.shape[0], sru, cru };
}

/** The snapshot of `model` on the images `x` (decoded, as `readSnapshots` returns it), without writing it anywhere. */
export async function takeSnapshot(model: tf.LayersModel, x: tf.Tensor4D, epoch = 0): Promise<EpochSnapshot> {
  const s = await computeSnapshot(model, x, epoch);
  return { ...s, sru: s.sru.map(decodeSRU) };
}

/** One SRU's importance map w = Sigmoid(W_γ(GN(X))) (Eq. 3 before its gate), all values for some images. */
export interface ImportanceMap {
  layer: string; // the SCConv (or SRU) layer's name
  shape: number[]; // [N, H, W, C] of w
  w: Float32Array; // row-major NHWC
}

/** The importance map w of every SRU of `model` for the images `x` (every value, for histograms), from one forward pass. */
export async function importanceMaps(model: tf.LayersModel, x: tf.Tensor4D): Promise<ImportanceMap[]> {
  const srus = sruLayers(model);
  const maps = tf.tidy(() => layerInputs(model, srus, x).map((input, i) => srus[i].gates(input).w));
  try {
    const values = (await Promise.all(maps.map((w) => w.data()))) as Float32Array[]; // webgpu in Node has no sync read
    return srus.map((layer, i) => ({ layer: layer.name, shape: maps[i].shape, w: values[i] }));
  } finally {
    tf.dispose(maps);
  }
}

/**
 * Append the snapshot of `model` after epoch `epoch` (1-based) on the probe images `x` to
 * `RUN/snapshots.jsonl`; a model without SRU or CRU (a plain ResNet) writes nothing.
 */
export async function appendSnapshot(runDir: string, model: tf.LayersModel, x: tf.Tensor4D, epoch: number): Promise<void> {
  const snapshot = await computeSnapshot(model, x, epoch);
  if (snapshot.sru.length || snapshot.cru.length) appendMetrics(runDir, snapshot, SNAPSHOTS_FILE);
}

/** The snapshots of a run folder, one per epoch, decoded (an empty list when the run has none). */
export function readSnapshots(runDir: string): EpochSnapshot[] {
  return readMetrics<StoredSnapshot>(runDir, console.warn, SNAPSHOTS_FILE).map((s) => ({ ...s, sru: s.sru.map(decodeSRU) }));
}

function decodeSRU(s: StoredSRU): SRUSnapshot {
  const { channels, maps, ...rest } = s;
  const decoded = maps.map((b64) => {
    const counts = zlib.inflateRawSync(Buffer.from(b64, 'base64'));
    if (counts.length !== s.height * s.width) {
      throw new DataError(`readSnapshots expects ${s.layer}'s maps to hold ${s.height}×${s.width} = ${s.height * s.width} counts, but received ${counts.length}. Is ${SNAPSHOTS_FILE} cut short?`);
    }
    return Array.from({ length: s.height }, (_, r) => Array.from(counts.subarray(r * s.width, (r + 1) * s.width), (n) => n / channels));
  });
  return { ...rest, maps: decoded };
}
