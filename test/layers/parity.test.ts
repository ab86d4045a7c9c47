/**
 * The TypeScript SCConv matches the PyTorch reference (../shared/reference/scconv_reference.py)
 * on the committed golden fixtures: all gate × fusion combinations, C 16/32/64,
 * α 0.25/0.5/0.75, GN groups 1/4/16; and configurations where the squeeze ratio divides neither
 * part (the reference floors: int(α·C) // r), with k = 5, g = 3 and C down to 2. Regenerate with `/usr/bin/python3 scripts/make_fixtures.py`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fromTorchStateDict } from '../../src/index';
import { TEST_BACKENDS } from '../kernels/helpers';
import { loadedLayer, loadFixtures, relativeError } from './fixtures';

for (const backend of TEST_BACKENDS) describe(`SCConv parity with the PyTorch reference (${backend.name})`, { skip: backend.skip }, () => {
  before(() => tf.setBackend(backend.name));
  after(() => tf.setBackend('cpu'));
  const fixtures = loadFixtures();

  const spread = fixtures.filter((f) => f.set === 'spread');
  const floored = fixtures.filter((f) => f.set === 'floored');

  it('covers the configuration spread of the issue', () => {
    const values = (key: string) => new Set(spread.map((f) => f.config[key] ?? 'default'));
    const combos = new Set(spread.map((f) => `${f.config.gate}/${f.config.fusion}`));
    assert.deepEqual([...combos].sort(), ['hard/global', 'hard/pairwise', 'soft/global', 'soft/pairwise']);
    assert.deepEqual([...values('channels')].sort(), [16, 32, 64]);
    assert.deepEqual([...values('alpha')].sort(), [0.25, 0.5, 0.75]);
    assert.deepEqual([...values('group_num')].sort((a, b) => +a - +b), [1, 4, 16]);
    assert.ok(fixtures.every((f) => f.input.shape[0] >= 2));
  });

  it('covers configurations PyTorch builds with floored channel counts (issue 15)', () => {
    const c = floored.map((f) => f.config as Record<string, number>);
    const r = (f: Record<string, number>) => f.squeeze_ratio ?? 2;
    const up = (f: Record<string, number>) => Math.floor(f.alpha * f.channels);
    // The squeeze ratio fails to divide a part in all but the 1/1 cases …
    assert.ok(c.filter((f) => up(f) % r(f) !== 0 || (f.channels - up(f)) % r(f) !== 0).length >= 4);
    assert.ok(c.some((f) => f.channels === 24 && f.alpha === 0.375 && r(f) === 2), 'the issue\'s example');
    assert.ok(c.some((f) => f.kernel_size === 5) && c.some((f) => f.groups === 3));
    assert.ok(c.some((f) => f.channels <= 6) && c.some((f) => f.channels === 2));
    const combos = new Set(floored.map((f) => `${f.config.gate}/${f.config.fusion}`));
    assert.deepEqual([...combos].sort(), ['hard/global', 'hard/pairwise', 'soft/global', 'soft/pairwise']);
  });

  for (const f of fixtures) {
    it(`matches ${f.name} to relative error ≤ 1e-4`, () => {
      const layer = loadedLayer(f, fromTorchStateDict);
      const y = layer.apply(f.input) as tf.Tensor;
      assert.deepEqual(y.shape, f.output.shape);
      const err = relativeError(y, f.output);
      assert.ok(err <= 1e-4, `relative error ${err}`);
      tf.dispose([y, ...layer.weights.map((w) => w.read())]);
    });
  }
});
