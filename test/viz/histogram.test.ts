import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { histograms } from '../../src/viz/histogram';

describe('histograms', () => {
  it('bins several samples over their shared range, as shares of each sample', () => {
    const h = histograms([[0, 0.1, 0.5, 1], [0.9, 1, 1, 1]], 4);
    assert.equal(h.lo, 0);
    assert.equal(h.hi, 1);
    assert.deepEqual(h.centres, [0.125, 0.375, 0.625, 0.875]);
    assert.deepEqual(h.shares[0], [0.5, 0, 0.25, 0.25]); // 0.5 opens the third bin; the maximum 1 stays in the last
    assert.deepEqual(h.shares[1], [0, 0, 0, 1]);
  });

  it('puts a sample of equal values in one bin', () => {
    const h = histograms([Float32Array.of(0.5, 0.5, 0.5)], 3);
    assert.deepEqual(h.shares, [[1, 0, 0]]);
    assert.deepEqual(h.centres, [1, 2, 3]);
  });

  it('names a bad input', () => {
    assert.throws(() => histograms([]), /histograms expects one or more non-empty samples, but received none/);
    assert.throws(() => histograms([[1], []]), /but received sample lengths \[1, 0\]/);
    assert.throws(() => histograms([[1, NaN]]), /histograms expects finite values, but received NaN/);
    assert.throws(() => histograms([[1]], 0), /histograms expects bins to be a positive integer, but received 0/);
  });
});
