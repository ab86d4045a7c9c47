import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchCount, batches, CIFAR10_MEAN, CIFAR10_STD, epochOrder, fillBatch } from '../../src/data/batches';
import { CifarSplit } from '../../src/data/format';
import { Rng } from '../../src/data/rng';

const PIX = 32 * 32 * 3;

function randomSplit(count: number, seed = 1): CifarSplit {
  const rng = new Rng(seed);
  return {
    images: Uint8Array.from({ length: count * 3072 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, () => rng.int(10)),
    count,
  };
}

/** Reference: normalise, zero-pad by 4 (normalised space, like F.pad in the PyTorch script), crop at (4+dy, 4+dx), flip. */
function reference(split: CifarSplit, i: number, dy: number, dx: number, flip: boolean): Float32Array {
  const out = new Float32Array(PIX);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const sy = y + dy;
      const sx = (flip ? 31 - x : x) + dx;
      for (let c = 0; c < 3; c++) {
        const inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        const v = inside ? split.images[i * 3072 + c * 1024 + sy * 32 + sx] : -1;
        out[(y * 32 + x) * 3 + c] = inside ? (v / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c] : 0;
      }
    }
  }
  return out;
}

function close(a: Float32Array, b: Float32Array): boolean {
  for (let k = 0; k < a.length; k++) if (Math.abs(a[k] - b[k]) > 1e-6) return false;
  return true;
}

test('every augmented image is a crop shifted by at most ±4 with zero fill, maybe mirrored', () => {
  const split = randomSplit(200);
  const idx = Array.from({ length: 200 }, (_, i) => i);
  const out = new Float32Array(200 * PIX);
  fillBatch(split, idx, out, new Rng(3, 0, 1));
  const dys = new Set<number>();
  const dxs = new Set<number>();
  let flips = 0;
  for (let i = 0; i < 200; i++) {
    const got = out.subarray(i * PIX, (i + 1) * PIX);
    const matches: [number, number, boolean][] = [];
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        for (const flip of [false, true]) if (close(got, reference(split, i, dy, dx, flip))) matches.push([dy, dx, flip]);
      }
    }
    assert.equal(matches.length, 1, `image ${i} matches ${matches.length} (shift, flip) candidates`);
    dys.add(matches[0][0]);
    dxs.add(matches[0][1]);
    if (matches[0][2]) flips++;
  }
  assert.equal(dys.size, 9, 'all 9 vertical shifts occur');
  assert.equal(dxs.size, 9, 'all 9 horizontal shifts occur');
  assert.ok(flips > 70 && flips < 130, `flips: ${flips}/200`);
});

test('a flip mirrors the row; without augmentation the image is unchanged', () => {
  const split = randomSplit(1, 5);
  const plain = new Float32Array(PIX);
  fillBatch(split, [0], plain, null);
  assert.ok(close(plain, reference(split, 0, 0, 0, false)));
  const mirrored = reference(split, 0, 0, 0, true);
  for (const [y, x] of [[0, 0], [7, 3], [31, 30]]) {
    for (let c = 0; c < 3; c++) assert.equal(mirrored[(y * 32 + x) * 3 + c], plain[(y * 32 + 31 - x) * 3 + c]);
  }
});

test("padFill 'black' pads with pixel value 0, i.e. -mean/std after normalisation", () => {
  const split = randomSplit(50, 2);
  const out = new Float32Array(50 * PIX);
  fillBatch(split, Array.from({ length: 50 }, (_, i) => i), out, new Rng(1), 'black');
  const black = CIFAR10_MEAN.map((m, c) => -m / CIFAR10_STD[c]);
  const counts = [0, 0, 0];
  for (let k = 0; k < out.length; k++) if (Math.abs(out[k] - black[k % 3]) < 1e-6) counts[k % 3]++;
  assert.ok(counts.every((n) => n > 50 * 32), `padded pixels per channel: ${counts}`);
});

test('normalisation: pixels with the dataset mean and std per channel come out with mean 0, std 1', () => {
  const count = 10;
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        const z = (p + i) % 2 === 0 ? -1 : 1;
        images[i * 3072 + c * 1024 + p] = Math.round(255 * (CIFAR10_MEAN[c] + z * CIFAR10_STD[c]));
      }
    }
  }
  const out = new Float32Array(count * PIX);
  fillBatch({ images, labels: new Uint8Array(count), count }, Array.from({ length: count }, (_, i) => i), out, null);
  for (let c = 0; c < 3; c++) {
    let s = 0;
    let s2 = 0;
    const n = out.length / 3;
    for (let k = c; k < out.length; k += 3) {
      s += out[k];
      s2 += out[k] * out[k];
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(std - 1) < 0.01, `channel ${c}: mean ${mean}, std ${std}`);
  }
});

test('batches depend only on (seed, epoch): same → identical, other epoch or seed → different', () => {
  const split = randomSplit(40, 8);
  const run = (seed: number, epoch: number) => {
    const xs: number[][] = [];
    const ls: number[][] = [];
    for (const b of batches(split, { batchSize: 16, shuffle: true, augment: true, seed, epoch })) {
      xs.push(Array.from(b.x.dataSync()));
      ls.push(Array.from(b.labels));
      tf.dispose([b.x, b.y]);
    }
    return { xs, ls };
  };
  const a = run(0, 3);
  assert.deepEqual(run(0, 3), a);
  const e = run(0, 4);
  assert.notDeepEqual(e.ls, a.ls);
  assert.notDeepEqual(e.xs, a.xs);
  assert.notDeepEqual(run(1, 3).xs, a.xs);
  assert.deepEqual(epochOrder(40, { shuffle: true, seed: 0, epoch: 3 }).slice().sort((p, q) => p - q), Int32Array.from({ length: 40 }, (_, i) => i));
});

test('batches: NHWC float32 tensors, one-hot labels, partial last batch, limit', () => {
  const split = randomSplit(10, 4);
  const sizes: number[] = [];
  const seen: number[] = [];
  for (const b of batches(split, { batchSize: 4 })) {
    assert.deepEqual(b.x.shape, [b.labels.length, 32, 32, 3]);
    assert.equal(b.x.dtype, 'float32');
    assert.equal(b.y.dtype, 'float32');
    assert.deepEqual(Array.from(b.y.argMax(1).dataSync()), Array.from(b.labels));
    assert.deepEqual(Array.from(b.y.sum(1).dataSync()), Array(b.labels.length).fill(1));
    sizes.push(b.labels.length);
    seen.push(...b.labels);
    tf.dispose([b.x, b.y]);
  }
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.deepEqual(seen, Array.from(split.labels));
  assert.equal(batchCount(split, { batchSize: 4 }), 3);
  const limited = [...batches(split, { batchSize: 4, limit: 6, shuffle: true, seed: 2 })];
  assert.deepEqual(limited.map((b) => b.labels.length), [4, 2]);
  assert.deepEqual(limited.flatMap((b) => Array.from(b.labels)).sort(), Array.from(split.labels.subarray(0, 6)).sort());
  limited.forEach((b) => tf.dispose([b.x, b.y]));
  assert.throws(() => [...batches(split, { batchSize: 0 })], /batches expects batchSize to be a positive integer, but received 0\./);
});
