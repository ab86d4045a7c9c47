/** createConv: every kind maps [N,H,W,Cin] → [N,H/s,W/s,filters]; SCConv's channel/stride adapter. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CONV_KINDS, createConv, SCConv } from '../../src/index';

const sizeOf = (layer: tf.layers.Layer) => layer.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);

describe('createConv', () => {
  for (const kind of CONV_KINDS) {
    for (const [cin, filters, strides] of [[16, 16, 1], [16, 32, 2]]) {
      it(`'${kind}' ${cin}→${filters}, stride ${strides}`, () => {
        const layer = createConv(kind, {inChannels: cin, filters, strides, name: `${kind}_${cin}_${filters}`});
        assert.equal(layer.name, `${kind}_${cin}_${filters}`);
        const y = tf.tidy(() => layer.apply(tf.randomNormal([2, 8, 8, cin])) as tf.Tensor);
        assert.deepEqual(y.shape, [2, 8 / strides, 8 / strides, filters]);
        // No bias anywhere but SCConv's GWC (BatchNorm follows the conv slot).
        const biases = layer.weights.filter((w) => /bias/.test(w.name) && !/GWC/.test(w.name));
        assert.deepEqual(biases.map((w) => w.name), []);
        y.dispose();
      });
    }
  }

  it('passes SCConv options through and uses kernelSize for the GWC', () => {
    const layer = createConv('scconv', {inChannels: 32, filters: 32, kernelSize: 5, scconv: {alpha: 0.25, gate: 'hard', groupNum: 8}}) as SCConv;
    assert.deepEqual([layer.cru.options.alpha, layer.cru.options.kernelSize, layer.sru.options.gate, layer.sru.options.groupNum],
      [0.25, 5, 'hard', 8]);
  });
});

describe('SCConv channel/stride adapter', () => {
  it('keeps channels and stride without a projection', () => {
    const layer = new SCConv({filters: 16});
    tf.dispose(layer.apply(tf.zeros([1, 4, 4, 16])) as tf.Tensor);
    assert.equal(layer.projection, undefined);
  });

  it('= SCConv(Cin) at full resolution, then a strided 1×1 projection Cin → filters', () => {
    const layer = new SCConv({filters: 32, strides: 2});
    const x = tf.randomNormal([2, 6, 6, 16], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = layer.apply(x) as tf.Tensor;
    // Parameters: SCConv(16) plus 16·32 projection weights.
    const plain = new SCConv();
    tf.dispose(plain.apply(x) as tf.Tensor);
    assert.equal(sizeOf(layer), sizeOf(plain) + 16 * 32);
    // Output: the same composition spelled out with the sub-layers.
    const inner = layer.cru.call(layer.sru.call(x, {}), {}) as tf.Tensor4D;
    const picked = tf.stridedSlice(inner, [0, 0, 0, 0], [2, 6, 6, 16], [1, 2, 2, 1]) as tf.Tensor4D;
    const want = tf.conv2d(picked, layer.projection!.read() as tf.Tensor4D, 1, 'same');
    assert.ok(tf.max(tf.abs(tf.sub(y, want))).dataSync()[0] < 1e-4);
    assert.deepEqual(y.shape, [2, 3, 3, 32]);
  });

  it('odd spatial sizes round up like a strided "same" conv', () => {
    assert.deepEqual(new SCConv({strides: 2}).computeOutputShape([null, 7, 7, 16]), [null, 4, 4, 16]);
    const y = new SCConv({strides: 2}).apply(tf.zeros([1, 7, 7, 16])) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 4, 4, 16]);
  });
});
