/** Each invalid configuration named in the issue throws a ValueError naming the bad value and the fix. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  createConv, CRU, GhostConv, GroupedConv2D, GroupNorm, OctaveConv, SCConv, SCConvLayerArgs, SRU, ValueError,
} from '../../src/index';

/** Assert that `fn` throws a ValueError whose message matches every pattern. */
function throwsValue(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValueError, `expected a ValueError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const applyTo = (layer: tf.layers.Layer, channels: number) => () => layer.apply(tf.input({shape: [8, 8, channels]}));
const scconvOn = (channels: number, args: SCConvLayerArgs) => applyTo(new SCConv(args), channels);

describe('configuration errors', () => {
  it('odd channel count where SRU splits halves', () => {
    throwsValue(scconvOn(15, {groupNum: 1}), /SRU expects an even channel count/, /received "15 channels"/);
  });

  it('channels not divisible by the GroupNorm groups', () => {
    throwsValue(scconvOn(18, {groupNum: 4}), /divisible by groupNum=4/, /divides 18: 1, 2, 3, 6, 9, 18/, /"18 channels"/);
    throwsValue(applyTo(new GroupNorm({groups: 5}), 16), /GroupNorm expects .*groupNum=5/, /"16 channels"/);
  });

  it('channels not divisible by the conv groups', () => {
    throwsValue(applyTo(new GroupedConv2D({filters: 12, groups: 4}), 6), /GroupedConv2D expects input channels divisible by groups=4/, /"6 input channels"/);
    throwsValue(() => new GroupedConv2D({filters: 10, groups: 4}), /filters divisible by groups=4/, /received 10/);
    // C = 16, α = 0.5, r = 2: the GWC sees 4 channels, which 3 groups cannot split.
    throwsValue(scconvOn(16, {groups: 3}), /CRU expects input channels divisible by groups=3/, /"4 input channels"/);
  });

  it('α outside (0, 1)', () => {
    throwsValue(() => new SCConv({alpha: 1.5}), /CRU expects alpha in \(0, 1\), but received 1\.5\./);
    throwsValue(() => new CRU({alpha: 0}), /alpha in \(0, 1\), but received 0\./);
    throwsValue(() => new OctaveConv({filters: 8, alpha: -0.5}), /OctaveConv expects alpha in \(0, 1\)/);
  });

  it('α leaving an empty branch', () => {
    throwsValue(scconvOn(16, {alpha: 0.05, groupNum: 1}), /alpha to leave both parts non-empty/, /C=16/, /received 0\.05/);
    throwsValue(applyTo(new CRU({alpha: 0.4, squeezeRatio: 1, groups: 1}), 2), /both parts non-empty/, /C=2/, /received 0\.4/);
    throwsValue(() => new OctaveConv({filters: 2, alpha: 0.25}), /OctaveConv expects alpha to leave both frequency parts non-empty for 2 filters/);
  });

  it('squeeze ratio r leaving a squeezed part empty', () => {
    // C = 16, α = 0.25: upper 4 channels, lower 12; r = 8 squeezes the upper part to ⌊4/8⌋ = 0.
    throwsValue(scconvOn(16, {alpha: 0.25, squeezeRatio: 8}), /squeezeRatio to leave at least one channel in each squeezed part/,
      /⌊4\/r⌋ and ⌊\(1−α\)C\/r⌋ = ⌊12\/r⌋/, /use squeezeRatio ≤ 4/, /received 8/);
    // C = 16, α = 0.75, r = 5: the lower 4 channels squeeze to 0.
    throwsValue(applyTo(new CRU({alpha: 0.75, squeezeRatio: 5, groups: 1}), 16), /⌊4\/r⌋ for alpha=0\.75, C=16/, /received 5\./);
  });

  it('builds what PyTorch builds: r need not divide a part (the reference floors, as int(α·C) // r)', () => {
    // The example: C = 24, α = 0.375 → upper 9 → ⌊9/2⌋ = 4, lower 15 → 7.
    const layer = new CRU({alpha: 0.375, squeezeRatio: 2});
    applyTo(layer, 24)();
    assert.deepEqual(layer.plan, {channels: 24, up: 9, low: 15, upSqueezed: 4, lowSqueezed: 7});
    assert.deepEqual(layer.pwc2!.shape, [1, 1, 7, 17]);
    // C = 16, α = 0.75, r = 3: upper 12 → 4, lower 4 → 1 (the old check refused 4 % 3 ≠ 0).
    const odd = new CRU({alpha: 0.75, squeezeRatio: 3, groups: 1});
    applyTo(odd, 16)();
    assert.deepEqual([odd.plan!.upSqueezed, odd.plan!.lowSqueezed], [4, 1]);
  });

  it('threshold outside (0, 1)', () => {
    throwsValue(() => new SCConv({threshold: 1.2}), /SRU expects threshold in \(0, 1\)/, /received 1\.2\./);
    throwsValue(() => new SRU({threshold: 0}), /threshold in \(0, 1\)/, /received 0\./);
  });

  it('unknown gate and fusion names', () => {
    throwsValue(() => new SCConv({gate: 'medium' as never}), /gate to be one of 'soft', 'hard', but received "medium"\./);
    throwsValue(() => new CRU({fusion: 'concat' as never}), /fusion to be one of 'pairwise', 'global', but received "concat"\./);
  });

  it('createConv: unknown kind lists the valid ones; channel problems surface before apply', () => {
    throwsValue(() => createConv('sconv', {inChannels: 16, filters: 16}), /one of 'standard', 'scconv', 'ghost', 'octave', but received "sconv"/);
    throwsValue(() => createConv('scconv', {inChannels: 10, filters: 10}), /SRU expects the channel count to be divisible by groupNum=4/);
    throwsValue(() => createConv('octave', {inChannels: 1, filters: 8}), /OctaveConv expects alpha to leave both frequency parts non-empty for 1 input channels/);
    throwsValue(() => createConv('standard', {inChannels: 3, filters: 8, strides: 3}), /strides to be 1 or 2, but received 3/);
  });

  it('other option checks: kernel size, strides, ratio, filters, input rank and spatial size', () => {
    throwsValue(() => new GroupedConv2D({filters: 8, kernelSize: 2}), /kernelSize to be a positive odd integer/, /received 2/);
    throwsValue(() => new SCConv({strides: 4}), /SCConv expects strides to be 1 or 2, but received 4/);
    throwsValue(() => new GhostConv({filters: 8, ratio: 1}), /ratio to be an integer ≥ 2, but received 1/);
    throwsValue(() => new SCConv({filters: 0}), /filters to be a positive integer/);
    throwsValue(() => new SRU().apply(tf.input({shape: [8, 16]})), /SRU expects a 4-D NHWC input/);
    throwsValue(() => new OctaveConv({filters: 8}).apply(tf.zeros([1, 6, 5, 8])), /height and width divisible by 2/, /\[6,5\]/);
  });
});
