/** Every custom layer: output shapes, getConfig → fromConfig, works without args, no tensor leaks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CRU, GhostConv, GroupedConv2D, GroupNorm, OctaveConv, SCConv, SRU } from '../../src/index';

type Make = () => tf.layers.Layer;
// [name, factory, input shape, expected output shape]
const CASES: [string, Make, number[], number[]][] = [
  ['GroupNorm', () => new GroupNorm(), [2, 6, 6, 8], [2, 6, 6, 8]],
  ['SRU', () => new SRU(), [2, 6, 6, 8], [2, 6, 6, 8]],
  ['CRU', () => new CRU(), [2, 6, 6, 16], [2, 6, 6, 16]],
  ['SCConv', () => new SCConv(), [2, 6, 6, 16], [2, 6, 6, 16]],
  ['SCConv adapter', () => new SCConv({filters: 32, strides: 2}), [2, 6, 6, 16], [2, 3, 3, 32]],
  ['GroupedConv2D', () => new GroupedConv2D({filters: 12, groups: 4, useBias: true}), [2, 6, 6, 8], [2, 6, 6, 12]],
  ['GroupedConv2D strided', () => new GroupedConv2D({filters: 8, strides: 2}), [2, 5, 5, 4], [2, 3, 3, 8]],
  ['GhostConv', () => new GhostConv({filters: 16}), [2, 6, 6, 8], [2, 6, 6, 16]],
  ['GhostConv odd filters', () => new GhostConv({filters: 15, strides: 2}), [2, 6, 6, 8], [2, 3, 3, 15]],
  ['OctaveConv', () => new OctaveConv({filters: 16}), [2, 8, 8, 8], [2, 8, 8, 16]],
  ['OctaveConv strided', () => new OctaveConv({filters: 32, strides: 2}), [2, 8, 8, 16], [2, 4, 4, 32]],
];

describe('custom layers', () => {
  for (const [name, make, inShape, outShape] of CASES) {
    it(`${name}: ${JSON.stringify(inShape)} → ${JSON.stringify(outShape)}, symbolic and eager`, () => {
      const layer = make();
      assert.deepEqual(layer.computeOutputShape([null, ...inShape.slice(1)]), [null, ...outShape.slice(1)]);
      const sym = layer.apply(tf.input({shape: inShape.slice(1)})) as tf.SymbolicTensor;
      assert.deepEqual(sym.shape, [null, ...outShape.slice(1)]);
      const y = tf.tidy(() => layer.apply(tf.randomNormal(inShape)) as tf.Tensor);
      assert.deepEqual(y.shape, outShape);
      assert.ok(tf.all(tf.isFinite(y)).dataSync()[0]);
      y.dispose();
    });

    it(`${name}: getConfig → fromConfig rebuilds the same configuration`, () => {
      const layer = make();
      // What tf.layers.Layer.fromConfig does: new cls(config).
      const cls = layer.constructor as new (config: tf.serialization.ConfigDict) => tf.layers.Layer;
      const copy = new cls(layer.getConfig());
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });

    it(`${name}: call leaves no tensors behind`, () => {
      const layer = make();
      const x = tf.randomNormal(inShape);
      tf.dispose(layer.apply(x) as tf.Tensor);  // builds: the weights are new tensors
      const before = tf.memory().numTensors;
      tf.dispose(layer.apply(x) as tf.Tensor);
      assert.equal(tf.memory().numTensors, before);
      x.dispose();
    });
  }

  it('the layers whose options all have defaults work without args', () => {
    for (const layer of [new GroupNorm(), new SRU(), new CRU(), new SCConv()]) {
      tf.dispose(layer.apply(tf.ones([1, 4, 4, 16])) as tf.Tensor);
    }
  });

  it('GroupNorm matches the definition (per sample, per group mean/variance) and exposes γ and w_γ', () => {
    const x = tf.randomNormal([2, 3, 3, 6], 1, 2, 'float32', 7) as tf.Tensor4D;
    const gn = new GroupNorm({groups: 3});
    tf.dispose(gn.apply(x) as tf.Tensor);
    gn.gammaWeight!.write(tf.tensor1d([1, 2, 3, 4, 5, 6]));
    gn.betaWeight!.write(tf.tensor1d([0, 1, 0, 1, 0, 1]));
    const got = (gn.apply(x) as tf.Tensor).arraySync() as number[][][][];
    const xs = x.arraySync();
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 3; g++) {
        const vals: number[] = [];
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) vals.push(xs[n][i][j][2 * g], xs[n][i][j][2 * g + 1]);
        const mean = vals.reduce((a, b) => a + b) / vals.length;
        const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
        for (const c of [2 * g, 2 * g + 1]) {
          const want = (xs[n][1][2][c] - mean) / Math.sqrt(variance + 1e-5) * (c + 1) + (c % 2);
          assert.ok(Math.abs(got[n][1][2][c] - want) < 1e-4, `n=${n} c=${c}: ${got[n][1][2][c]} vs ${want}`);
        }
      }
    }
    assert.deepEqual(Array.from(gn.gamma().dataSync()), [1, 2, 3, 4, 5, 6]);
    const wg = gn.normalizedGamma().dataSync();
    assert.ok(Math.abs(wg[5] - 6 / 21) < 1e-6);
  });

  it('GroupNorm stays accurate when the mean is far from zero (E[x²] − E[x]² in float32)', () => {
    const x = tf.add(tf.randomNormal([2, 8, 8, 8], 0, 1, 'float32', 9), 10) as tf.Tensor4D;
    const y = new GroupNorm({groups: 2}).apply(x) as tf.Tensor;
    // Naive two-pass reference: per sample and group, subtract the mean, divide by the std.
    const xg = tf.reshape(x, [2, 8, 8, 2, 4]);
    const {mean, variance} = tf.moments(xg, [1, 2, 4], true);
    const want = tf.reshape(tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, 1e-5))), x.shape);
    assert.ok(tf.max(tf.abs(tf.sub(y, want))).dataSync()[0] < 1e-3);
  });

  it('SRU gates: soft passes w below t and 1 above; hard is binary; W1 + W2 covers every pixel', () => {
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    for (const gate of ['soft', 'hard'] as const) {
      const layer = new SRU({groupNum: 2, gate});
      tf.dispose(layer.apply(x) as tf.Tensor);
      layer.gamma!.write(tf.linspace(0.2, 3, 8));
      const {w, W1, W2} = layer.gates(x);
      const [wv, a, b] = [w.dataSync(), W1.dataSync(), W2.dataSync()];
      let above = 0;
      for (let i = 0; i < wv.length; i++) {
        const hi = wv[i] > 0.5;
        above += +hi;
        if (gate === 'soft') assert.deepEqual([a[i], b[i]], hi ? [1, 0] : [wv[i], wv[i]]);
        else assert.deepEqual([a[i], b[i]], hi ? [1, 0] : [0, 1]);
      }
      assert.ok(above > 0 && above < wv.length, 'the test input exercises both sides of t');
    }
  });

  it('CRU betas: pairwise β1 + β2 = 1 per channel; global sums to 1 over all 2C', () => {
    const x = tf.randomNormal([2, 4, 4, 16], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const fusion of ['pairwise', 'global'] as const) {
      const {beta1, beta2} = new CRU({fusion}).betas(x);
      assert.deepEqual(beta1.shape, [2, 1, 1, 16]);
      const sums = (fusion === 'pairwise' ? tf.add(beta1, beta2) : tf.add(tf.sum(beta1, 3), tf.sum(beta2, 3))).dataSync();
      for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `${fusion}: ${s}`);
    }
  });
});
