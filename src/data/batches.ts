/**
 * Mini-batches for training and evaluation: shuffling, the standard CIFAR augmentation and
 * per-channel normalisation, written in one typed-array pass straight into the batch buffer.
 *
 * Everything random comes from `Rng(seed, epoch, stream)`, so an epoch's batches depend only on
 * (seed, epoch): a resumed run sees exactly the batches an uninterrupted one would have.
 *
 * Padding convention: the crop is taken from the image zero-padded by 4 *after* normalisation,
 * i.e. padded pixels are 0 in normalised space (the dataset mean colour). That is what the
 * PyTorch reference we compare per-epoch accuracy with does (`F.pad` on the normalised tensor in
 * shared/bench/torch_cifar_train.py). torchvision's `RandomCrop(32, padding=4)` before `Normalize`
 * pads with black pixels instead: pass `padFill: 'black'` for that.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { CHANNELS, CifarSplit, IMAGE_SIZE, NUM_CLASSES } from './format';
import { Rng } from './rng';

/** Per-channel mean and std of the CIFAR-10 training set (R, G, B), as used by the paper's recipe. */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.2023, 0.1994, 0.2010];

/** Pixels of padding around the image before the random 32×32 crop. */
export const CROP_PADDING = 4;

/** Rng streams per epoch: one for the order, one for the augmentation. */
const ORDER_STREAM = 0;
const AUGMENT_STREAM = 1;

export interface BatchOptions {
  /** Images per batch (the last batch may be smaller). */
  batchSize: number;
  /** Visit the images in a random order (seeded by seed and epoch). Defaults to false. */
  shuffle?: boolean;
  /** Random crop from the 4-pixel zero-padded image and random horizontal flip. Defaults to false. */
  augment?: boolean;
  /** Defaults to 0. */
  seed?: number;
  /** Defaults to 0. */
  epoch?: number;
  /** Use only the first `limit` images of the split (a fixed subset for quick runs). Defaults to all. */
  limit?: number;
  /** What the padding holds: 'mean' (0 after normalisation, the default) or 'black' (0 before). */
  padFill?: 'mean' | 'black';
}

export interface Batch {
  /** [n, 32, 32, 3] float32, normalised. */
  x: tf.Tensor4D;
  /** [n, 10] float32 one-hot. */
  y: tf.Tensor2D;
  labels: Int32Array;
}

/** Number of batches `batches(split, options)` yields. */
export function batchCount(split: CifarSplit, options: Pick<BatchOptions, 'batchSize' | 'limit'>): number {
  return Math.ceil(usedCount(split, options.limit) / options.batchSize);
}

/** The order in which an epoch visits image indices. */
export function epochOrder(count: number, options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'> = {}): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (options.shuffle) new Rng(options.seed ?? 0, options.epoch ?? 0, ORDER_STREAM).shuffle(order);
  return order;
}

/** `lut[c * 256 + v]` = (v / 255 − mean_c) / std_c. */
function normalisationTable(): Float32Array {
  const lut = new Float32Array(CHANNELS * 256);
  for (let c = 0; c < CHANNELS; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c];
  }
  return lut;
}
const LUT = normalisationTable();

/** The normalised value of a padded pixel, per channel. */
function padValues(padFill: 'mean' | 'black'): Float32Array {
  return Float32Array.from(CIFAR10_MEAN, (m, c) => (padFill === 'black' ? LUT[c * 256] : 0));
}

/**
 * Write images `indices` of `split` into `out` as NHWC float32, normalised. With `rng`, each image
 * gets a random crop offset (oy, ox) in [0, 8]² of its padded version and a flip with probability
 * 1/2, drawn in that order, image by image.
 */
export function fillBatch(
  split: CifarSplit,
  indices: ArrayLike<number>,
  out: Float32Array,
  rng: Rng | null,
  padFill: 'mean' | 'black' = 'mean',
): void {
  const S = IMAGE_SIZE;
  const plane = S * S;
  const pad = padValues(padFill);
  const img = split.images;
  const range = 2 * CROP_PADDING + 1;
  let o = 0;
  for (let b = 0; b < indices.length; b++) {
    const base = indices[b] * CHANNELS * plane;
    let dy = 0;
    let dx = 0;
    let flip = false;
    if (rng) {
      dy = rng.int(range) - CROP_PADDING;
      dx = rng.int(range) - CROP_PADDING;
      flip = rng.next() < 0.5;
    }
    for (let y = 0; y < S; y++) {
      const sy = y + dy;
      const rowInside = sy >= 0 && sy < S;
      const row = base + sy * S;
      for (let x = 0; x < S; x++, o += 3) {
        const sx = (flip ? S - 1 - x : x) + dx;
        if (rowInside && sx >= 0 && sx < S) {
          const p = row + sx;
          out[o] = LUT[img[p]];
          out[o + 1] = LUT[256 + img[p + plane]];
          out[o + 2] = LUT[512 + img[p + 2 * plane]];
        } else {
          out[o] = pad[0];
          out[o + 1] = pad[1];
          out[o + 2] = pad[2];
        }
      }
    }
  }
}

/** Yield one epoch of batches (see BatchOptions). The caller disposes `x` and `y`. */
export function* batches(split: CifarSplit, options: BatchOptions): Generator<Batch> {
  const { batchSize } = options;
  expect(Number.isInteger(batchSize) && batchSize > 0, 'batches', 'batchSize to be a positive integer', batchSize);
  const count = usedCount(split, options.limit);
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const order = epochOrder(count, { shuffle: options.shuffle, seed, epoch });
  const rng = options.augment ? new Rng(seed, epoch, AUGMENT_STREAM) : null;
  const pixels = IMAGE_SIZE * IMAGE_SIZE * CHANNELS;
  for (let start = 0; start < count; start += batchSize) {
    const idx = order.subarray(start, Math.min(start + batchSize, count));
    const n = idx.length;
    const xs = new Float32Array(n * pixels); // fresh each batch: the tensor keeps this buffer
    fillBatch(split, idx, xs, rng, options.padFill);
    const labels = new Int32Array(n);
    const ys = new Float32Array(n * NUM_CLASSES);
    for (let i = 0; i < n; i++) {
      labels[i] = split.labels[idx[i]];
      ys[i * NUM_CLASSES + labels[i]] = 1;
    }
    yield {
      x: tf.tensor4d(xs, [n, IMAGE_SIZE, IMAGE_SIZE, CHANNELS], 'float32'),
      y: tf.tensor2d(ys, [n, NUM_CLASSES], 'float32'),
      labels,
    };
  }
}

function usedCount(split: CifarSplit, limit: number | undefined): number {
  if (limit === undefined) return split.count;
  expect(Number.isInteger(limit) && limit > 0, 'batches', 'limit to be a positive integer (images to use)', limit);
  return Math.min(limit, split.count);
}
