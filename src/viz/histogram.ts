/**
 * Histograms of several samples over one shared range, so that their bars line up in one bar
 * chart (notebook 05: the SRU's importance map w at initialisation beside w trained).
 *
 *     const h = histograms([wInit, wTrained], 40);
 *     barChart([{ name: 'init', x: h.centres, y: h.shares[0] }, { name: 'trained', x: h.centres, y: h.shares[1] }]);
 */
import { ValueError } from '../errors';

export interface Histograms {
  /** The centre of each bin, rounded to 4 decimals (axis labels). */
  centres: number[];
  /** Per sample, the share of its values in each bin (sums to 1). */
  shares: number[][];
  /** The shared range: the smallest and the largest value of all samples. */
  lo: number;
  hi: number;
}

/** `bins` equal bins from the smallest to the largest value of all `samples`; the largest value falls in the last bin. */
export function histograms(samples: ArrayLike<number>[], bins = 40): Histograms {
  if (!Number.isInteger(bins) || bins < 1) throw new ValueError(`histograms expects bins to be a positive integer, but received ${bins}.`);
  if (samples.length === 0 || samples.some((s) => s.length === 0)) {
    throw new ValueError(`histograms expects one or more non-empty samples, but received ${samples.length === 0 ? 'none' : `sample lengths [${samples.map((s) => s.length).join(', ')}]`}.`);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of samples) {
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) throw new ValueError(`histograms expects finite values, but received ${s[i]}.`);
      lo = Math.min(lo, s[i]);
      hi = Math.max(hi, s[i]);
    }
  }
  const width = hi > lo ? (hi - lo) / bins : 1; // all values equal: they share the first bin
  const shares = samples.map((s) => {
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < s.length; i++) counts[Math.min(bins - 1, Math.floor((s[i] - lo) / width))]++;
    return counts.map((n) => n / s.length);
  });
  const centres = Array.from({ length: bins }, (_, b) => Number((lo + (b + 0.5) * width).toFixed(4)));
  return { centres, shares, lo, hi };
}
