/** fromTorchStateDict: loads the reference's state dicts (OIHW → HWIO) and names any mismatch. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fromTorchStateDict, SCConv, TorchStateDict, ValueError } from '../../src/index';
import { loadFixtures, relativeError, scconvArgs } from '../layers/fixtures';

const fixture = loadFixtures()[0];  // C = 16, soft gate, pairwise fusion

function built(args = scconvArgs(fixture.config)): SCConv {
  const layer = new SCConv(args);
  tf.dispose(layer.apply(fixture.input) as tf.Tensor);
  return layer;
}

describe('fromTorchStateDict', () => {
  it('loads every tensor, transposing conv weights from OIHW to HWIO', () => {
    const layer = built();
    fromTorchStateDict(layer, fixture.stateDict);
    const gwc = fixture.stateDict['CRU.GWC.weight'];  // [C, up/r/g, k, k]
    const [o, i, h, w] = gwc.shape;
    const hwio = layer.cru.gwcKernel!.read().arraySync() as number[][][][];
    // weight[o', i', h', w'] sits at index ((o'·I + i')·H + h')·W + w' in the flat PyTorch data.
    for (const [oo, ii, hh, ww] of [[0, 0, 0, 0], [o - 1, i - 1, h - 1, w - 1], [3, 1, 2, 0]]) {
      assert.equal(hwio[hh][ww][ii][oo], gwc.data[((oo * i + ii) * h + hh) * w + ww]);
    }
    assert.deepEqual(Array.from(layer.sru.gamma!.read().dataSync()), Array.from(fixture.stateDict['SRU.gn.weight'].data));
    assert.ok(relativeError(layer.apply(fixture.input) as tf.Tensor, fixture.output) < 1e-4);
  });

  it('accepts plain number arrays and a whole-model prefix', () => {
    const layer = built();
    const prefixed: TorchStateDict = Object.fromEntries(Object.entries(fixture.stateDict)
      .map(([k, v]) => [`layer1.0.conv2.${k}`, {shape: v.shape, data: Array.from(v.data)}]));
    prefixed['fc.weight'] = {shape: [1], data: [0]};  // other modules' entries are ignored
    fromTorchStateDict(layer, prefixed, {prefix: 'layer1.0.conv2.'});
    assert.ok(relativeError(layer.apply(fixture.input) as tf.Tensor, fixture.output) < 1e-4);
  });

  const broken: [string, (sd: TorchStateDict) => void, RegExp][] = [
    ['a missing name', (sd) => delete sd['CRU.PWC2.weight'], /expects an entry "CRU\.PWC2\.weight" in the state dict, but it is missing/],
    ['a misspelt name', (sd) => { sd['CRU.gwc.weight'] = sd['CRU.GWC.weight']; delete sd['CRU.GWC.weight']; },
      /unexpected "CRU\.gwc\.weight"/],
    ['a wrong shape', (sd) => { sd['CRU.squeeze1.weight'] = {shape: [4, 8, 3, 3], data: new Float32Array(288)}; },
      /"CRU\.squeeze1\.weight" to have shape \[4,8,1,1\] \(PyTorch order\) for this layer, but received shape \[4,8,3,3\]/],
    ['too few values', (sd) => { sd['SRU.gn.bias'] = {shape: [16], data: [1, 2]}; }, /expects 16 values for "SRU\.gn\.bias"/],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`rejects ${what}, naming it, and writes nothing`, () => {
      const layer = built();
      const before = layer.getWeights().map((w) => w.dataSync().slice());
      const sd = {...fixture.stateDict};
      breakIt(sd);
      assert.throws(() => fromTorchStateDict(layer, sd), (e: unknown) => e instanceof ValueError && message.test(e.message));
      layer.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
    });
  }

  it('rejects an unbuilt layer and a state dict for another channel count', () => {
    assert.throws(() => fromTorchStateDict(new SCConv(), fixture.stateDict), /expects a built SCConv layer \(apply it to an input first\)/);
    const wide = new SCConv();
    tf.dispose(wide.apply(tf.zeros([1, 4, 4, 32])) as tf.Tensor);
    assert.throws(() => fromTorchStateDict(wide, fixture.stateDict), /"SRU\.gn\.weight" to have shape \[32\].*received shape \[16\]/);
  });

  it('loads the adapter projection from "proj.weight"', () => {
    const layer = built({...scconvArgs(fixture.config), filters: 8});
    assert.throws(() => fromTorchStateDict(layer, fixture.stateDict), /"proj\.weight" in the state dict, but it is missing/);
    fromTorchStateDict(layer, {...fixture.stateDict, 'proj.weight': {shape: [8, 16, 1, 1], data: new Float32Array(128).fill(0.5)}});
    assert.deepEqual(layer.projection!.read().shape, [1, 1, 16, 8]);
    assert.equal(layer.projection!.read().dataSync()[17], 0.5);
  });
});
