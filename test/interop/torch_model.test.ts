/**
 * Whole CIFAR ResNets both ways between PyTorch and tfjs, on the fixtures of
 * scripts/make_resnet_fixtures.py (plain and SCConv, placements 'second' and 'both', shortcuts A
 * and B, akamaster and bench names, BatchNorm running statistics, num_batches_tracked = 7).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  createResNet, modelFromTorchStateDict, modelToTorchStateDict, ResNetArgs, torchModuleNames, TorchStateDict, ValueError,
} from '../../src/index';
import { nchwToNhwc, Packed, relativeError, unpack } from '../layers/fixtures';

interface ModelFixture {
  name: string;
  config: Required<Pick<ResNetArgs, 'depth' | 'conv' | 'placement' | 'shortcut' | 'width'>> & {names: 'akamaster' | 'bench'};
  stateDict: TorchStateDict;
  input: tf.Tensor4D;  // NHWC
  logits: tf.Tensor;
}

const fixtures: ModelFixture[] = JSON.parse(readFileSync(new URL('../fixtures/resnet_interop.json', import.meta.url), 'utf8'))
  .fixtures.map((f: {name: string, config: ModelFixture['config'], state_dict: Record<string, Packed>, input: Packed, logits: Packed}) => ({
    name: f.name,
    config: f.config,
    stateDict: Object.fromEntries(Object.entries(f.state_dict).map(([k, v]) => [k, unpack(v)])),
    input: nchwToNhwc(f.input),
    logits: tf.tensor(unpack(f.logits).data, f.logits.shape),
  }));

function modelFor(f: ModelFixture, overrides: Partial<ResNetArgs> = {}): tf.LayersModel {
  const {depth, conv, placement, shortcut, width} = f.config;
  return createResNet({depth, conv, placement, shortcut, width, inputShape: [8, 8, 3], stridePadding: 'torch', seed: 1, ...overrides});
}

const logitsOf = (model: tf.LayersModel, x: tf.Tensor4D) => model.predict(x) as tf.Tensor;
const options = (f: ModelFixture) => ({names: f.config.names});

describe('whole models from PyTorch', () => {
  it('covers plain and SCConv, both placements, shortcuts A and B, both naming schemes', () => {
    const has = (pred: (c: ModelFixture['config']) => boolean) => fixtures.some((f) => pred(f.config));
    for (const names of ['akamaster', 'bench']) for (const shortcut of ['A', 'B']) assert.ok(has((c) => c.names === names && c.shortcut === shortcut));
    assert.ok(has((c) => c.conv === 'standard') && has((c) => c.conv === 'scconv' && c.placement === 'second'));
    assert.ok(has((c) => c.conv === 'scconv' && c.placement === 'both' && c.shortcut === 'A'));
    assert.ok(has((c) => c.conv === 'scconv' && c.placement === 'both' && c.shortcut === 'B'));
    assert.ok(has((c) => c.depth > 8 && c.names === 'bench'), 'n > 1 exercises the flat block index layers.i');
  });

  // Tolerance: the logits come out of 8 to 14 float32 layers whose sums run in a different order
  // in each framework (im2col/oneDNN vs tfjs loops); 1e-4 of the largest logit is ~100 float32 ulps.
  for (const f of fixtures) {
    it(`${f.name}: the reference's logits within 1e-4 (relative)`, () => {
      const model = modelFor(f);
      modelFromTorchStateDict(model, f.stateDict, options(f));
      const y = logitsOf(model, f.input);
      const err = relativeError(y, f.logits);
      assert.ok(err <= 1e-4, `relative error ${err}`);
      tf.dispose(y);
      model.dispose();
    });

    it(`${f.name}: tfjs → state dict has PyTorch's names, shapes and values, and loads back identically`, () => {
      const model = modelFor(f);
      modelFromTorchStateDict(model, f.stateDict, options(f));
      const exported = modelToTorchStateDict(model, options(f));
      assert.deepEqual(Object.keys(exported).sort(), Object.keys(f.stateDict).sort());
      for (const [key, entry] of Object.entries(exported)) {
        assert.deepEqual(entry.shape, f.stateDict[key].shape, key);
        if (key.endsWith('num_batches_tracked')) {
          assert.deepEqual([entry.dtype, Array.from(entry.data)], ['int64', [0]], key);  // written, not tracked here
        } else {
          assert.deepEqual(Float32Array.from(entry.data), Float32Array.from(f.stateDict[key].data), key);
        }
      }
      // Through JSON (what a file holds) into a model with other initial weights: bitwise the same.
      const again = modelFor(f, {seed: 2});
      modelFromTorchStateDict(again, JSON.parse(JSON.stringify(exported)), options(f));
      again.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), model.weights[i].read().dataSync(), w.name));
      const [a, b] = [logitsOf(model, f.input), logitsOf(again, f.input)];
      assert.deepEqual(a.dataSync(), b.dataSync());
      tf.dispose([a, b]);
      model.dispose();
      again.dispose();
    });
  }

  it("needs stridePadding 'torch': TensorFlow's 'same' shifts the stride-2 convs by a pixel", () => {
    const f = fixtures.find((g) => g.config.conv === 'standard')!;
    const model = modelFor(f, {stridePadding: 'tf'});
    modelFromTorchStateDict(model, f.stateDict, options(f));  // the same weights load …
    const y = logitsOf(model, f.input);
    assert.ok(relativeError(y, f.logits) > 1e-2, 'but compute something else');
    tf.dispose(y);
    model.dispose();
  });

  it('takes a user name map for other PyTorch module names', () => {
    const f = fixtures.find((g) => g.config.conv === 'scconv' && g.config.placement === 'both')!;
    const model = modelFor(f);
    const names = Object.fromEntries([...torchModuleNames(model, f.config.names)].map(([layer, module]) => [layer, `net.${module}`]));
    const renamed = Object.fromEntries(Object.entries(f.stateDict).map(([k, v]) => [`net.${k}`, v]));
    modelFromTorchStateDict(model, renamed, {names});
    const y = logitsOf(model, f.input);
    assert.ok(relativeError(y, f.logits) <= 1e-4);
    assert.deepEqual(Object.keys(modelToTorchStateDict(model, {names})).sort(), Object.keys(renamed).sort());
    delete names.fc;
    assert.throws(() => modelFromTorchStateDict(model, renamed, {names}),
      /modelFromTorchStateDict expects a PyTorch module name for layer "fc", but the name map has none; add "fc" to it\./);
    tf.dispose(y);
    model.dispose();
  });

  const sc = fixtures.find((g) => g.config.conv === 'scconv' && g.config.names === 'akamaster' && g.config.shortcut === 'B')!;
  const broken: [string, (sd: TorchStateDict) => void, RegExp][] = [
    ['a missing entry', (sd) => delete sd['layer2.0.bn1.running_var'], /expects an entry "layer2\.0\.bn1\.running_var" in the state dict, but it is missing/],
    ['an extra entry', (sd) => { sd['layer4.0.conv1.weight'] = sd['conv1.weight']; }, /but received unexpected "layer4\.0\.conv1\.weight"/],
    ['a mis-shaped linear weight', (sd) => { sd['linear.weight'] = {shape: [32, 10], data: sd['linear.weight'].data}; },
      /"linear\.weight" to have shape \[10,32\] \(PyTorch order\) for this layer, but received shape \[32,10\]/],
    ['a mis-shaped conv weight', (sd) => { sd['layer3.0.shortcut.0.weight'] = {shape: [32, 16, 3, 3], data: new Float32Array(4608)}; },
      /"layer3\.0\.shortcut\.0\.weight" to have shape \[32,16,1,1\].*received shape \[32,16,3,3\]/],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`rejects ${what}, naming it, and writes nothing`, () => {
      const model = modelFor(sc);
      const before = model.weights.map((w) => w.read().dataSync().slice());
      const sd = {...sc.stateDict};
      breakIt(sd);
      assert.throws(() => modelFromTorchStateDict(model, sd, options(sc)), (e: unknown) => e instanceof ValueError && message.test(e.message));
      model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), before[i]));
      model.dispose();
    });
  }

  it('names the mismatch when the structures differ, and refuses unknown namings and layers', () => {
    // The SCConv 'second' state dict into a 'both' model: conv1 of the first block is a plain conv there.
    const second = fixtures.find((g) => g.config.conv === 'scconv' && g.config.placement === 'second' && g.config.names === 'akamaster')!;
    const both = modelFor(second, {placement: 'both'});
    assert.throws(() => modelFromTorchStateDict(both, second.stateDict), /unexpected "layer1\.0\.conv1\.weight"/);
    assert.throws(() => modelToTorchStateDict(both, {names: 'timm' as 'bench'}), /expects names to be one of 'akamaster', 'bench' or a name map/);
    const ghost = createResNet({depth: 8, width: 4, conv: 'ghost', inputShape: [8, 8, 3]});
    assert.throws(() => modelToTorchStateDict(ghost), /PyTorch interop expects layers of the kinds Conv2D, Dense, BatchNormalization, SCConv \(or without weights\), but received layer "s1b1_conv2" of class SCConvGhostConv\./);
    const other = tf.sequential({layers: [tf.layers.dense({units: 2, inputShape: [3], name: 'head'})]});
    assert.throws(() => modelToTorchStateDict(other), /module name for layer "head", but naming 'akamaster' knows only the layers createResNet builds/);
    [both, ghost, other].forEach((m) => m.dispose());
  });
});
