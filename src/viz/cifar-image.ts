/** CIFAR-10 images (official CHW planes) as RGB rows for plotly `image` panels. */
import { expect } from '../errors';

/** Images stored as `images[i * 3072 + c * 1024 + y * 32 + x]` (the CifarSplit layout). */
export interface ImageSource {
  images: Uint8Array;
  count: number;
}

/** Image `index` as 32 rows of 32 `[r, g, b]` pixels (0..255). */
export function cifarRgb(split: ImageSource, index: number): number[][][] {
  expect(Number.isInteger(index) && index >= 0 && index < split.count, 'cifarRgb', `an image index in [0, ${split.count})`, index);
  const base = index * 3072;
  const rows: number[][][] = [];
  for (let y = 0; y < 32; y++) {
    const row: number[][] = [];
    for (let x = 0; x < 32; x++) {
      const p = base + y * 32 + x;
      row.push([split.images[p], split.images[p + 1024], split.images[p + 2048]]);
    }
    rows.push(row);
  }
  return rows;
}
