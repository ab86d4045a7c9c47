/** countParams / countFlops against values computed by hand from each layer's definition. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { countFlops, countParams, GhostConv, GroupedConv2D, OctaveConv, SCConv } from '../../src/index';

/** A functional model with one layer on an [H, W, C] input (H, W may be null). */
function wrap(layer: tf.layers.Layer, shape: (number | null)[]): tf.LayersModel {
  const input = tf.input({shape});
  return tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
}

describe('countParams and countFlops', () => {
  it('plain conv and dense: k²·Cin·Cout per output pixel; in·units', () => {
    const model = tf.sequential({layers: [
      tf.layers.conv2d({inputShape: [8, 8, 3], filters: 16, kernelSize: 3, padding: 'same', useBias: false}),
      tf.layers.batchNormalization(),
      tf.layers.conv2d({filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false}),
      tf.layers.flatten(),
      tf.layers.dense({units: 10}),
    ]});
    // params: 3·3·3·16 + BN γ,β 2·16 (moving stats excluded) + 3·3·16·8 + (4·4·8)·10 + 10
    assert.equal(countParams(model), 432 + 32 + 1152 + 1280 + 10);
    // MACs: 8·8·432 + 4·4·1152 + 128·10
    assert.equal(countFlops(model, [8, 8, 3]), 64 * 432 + 16 * 1152 + 1280);
  });

  it('grouped conv: H·W·k²·(Cin/g)·Cout', () => {
    const model = wrap(new GroupedConv2D({filters: 12, groups: 4, useBias: true}), [6, 6, 8]);
    assert.equal(countParams(model), 3 * 3 * 2 * 12 + 12);
    assert.equal(countFlops(model, [6, 6, 8]), 36 * 3 * 3 * 2 * 12);
  });

  it('Ghost module (s = 2, d = 3): k²·Cin·m + d²·m with m = filters/2', () => {
    const model = wrap(new GhostConv({filters: 16}), [8, 8, 8]);
    const perPixel = 9 * 8 * 8 + 9 * 8;  // primary 3×3 8→8, cheap depthwise 3×3 on 8 maps
    assert.equal(countParams(model), perPixel);
    assert.equal(countFlops(model, [8, 8, 8]), 64 * perPixel);
  });

  it('Octave conv (α = 0.5): plain-conv params; HH at full, the other paths at quarter resolution', () => {
    const model = wrap(new OctaveConv({filters: 16}), [8, 8, 16]);
    assert.equal(countParams(model), 9 * 16 * 16);
    assert.equal(countFlops(model, [8, 8, 16]), 64 * 9 * 8 * 8 + 3 * 16 * 9 * 8 * 8);  // = 0.4375 × plain
    assert.equal(countFlops(model, [8, 8, 16]) / (64 * 9 * 16 * 16), 0.4375);
  });

  for (const [C, alpha, r, g, k] of [[64, 0.5, 2, 2, 3], [32, 0.25, 2, 2, 3], [64, 0.75, 4, 4, 5]]) {
    it(`SCConv(C=${C}, α=${alpha}, r=${r}, g=${g}, k=${k}) parameters and MACs term by term`, () => {
      const up = alpha * C, low = C - up;
      // The transform stage (the paper's complexity analysis, Eq. 10–11 per the issue): GWC
      // k²·(αC/r)·C/g, PWC1 (αC/r)·C, PWC2 ((1−α)C/r)·(C − (1−α)C/r) ...
      const eq11 = k * k * (up / r) * (C / g) + (up / r) * C + (low / r) * (C - low / r);
      // ... plus the two 1×1 squeezes αC·αC/r + (1−α)C·(1−α)C/r, the GWC bias C and GN's γ, β (2C).
      const squeezes = up * (up / r) + low * (low / r);
      const model = wrap(new SCConv({alpha, squeezeRatio: r, groups: g, kernelSize: k, groupNum: 4}), [null, null, C]);
      assert.equal(countParams(model), eq11 + squeezes + C + 2 * C);
      // MACs per pixel = Eq. 11 conv terms + squeezes (no bias, no GN); any input size works.
      assert.equal(countFlops(model, [8, 8, C]), 64 * (eq11 + squeezes));
      assert.equal(countFlops(model, [4, 6, C]), 24 * (eq11 + squeezes));
      // Against the standard 3×3 conv it replaces (Eq. 10: k²·C·C), e.g. 9·64² = 36864 at C = 64.
      if (C === 64 && alpha === 0.5) assert.ok(eq11 + squeezes < (9 * C * C) / 4);
    });
  }

  it('SCConv adapter adds Cin·filters params and H′·W′·Cin·filters MACs', () => {
    const plain = wrap(new SCConv(), [8, 8, 16]);
    const adapted = wrap(new SCConv({filters: 32, strides: 2}), [8, 8, 16]);
    assert.equal(countParams(adapted), countParams(plain) + 16 * 32);
    assert.equal(countFlops(adapted, [8, 8, 16]), countFlops(plain, [8, 8, 16]) + 16 * 16 * 32);
  });

  it('walks nested models and branches (a residual block inside a model)', () => {
    const inner = (() => {
      const x = tf.input({shape: [null, null, 8]});
      const a = tf.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', useBias: false}).apply(x) as tf.SymbolicTensor;
      const b = new GroupedConv2D({filters: 8, groups: 2}).apply(x) as tf.SymbolicTensor;
      return tf.model({inputs: x, outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor});
    })();
    const x = tf.input({shape: [null, null, 8]});
    const y = tf.layers.globalAveragePooling2d({}).apply(inner.apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({inputs: x, outputs: tf.layers.dense({units: 4}).apply(y) as tf.SymbolicTensor});
    assert.equal(countFlops(model, [4, 4, 8]), 16 * (9 * 8 * 8 + 9 * 4 * 8) + 8 * 4);
    assert.equal(countParams(model), 9 * 8 * 8 + 9 * 4 * 8 + 8 * 4 + 4);
  });

  it('rejects an input shape with the batch axis', () => {
    const model = wrap(new GhostConv({filters: 4}), [8, 8, 4]);
    assert.throws(() => countFlops(model, [1, 8, 8, 4]), /countFlops expects inputShape to be 3 positive integers without the batch axis/);
  });
});
