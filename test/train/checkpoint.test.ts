import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DataError } from '../../src/errors';
import { resolveConfig } from '../../src/train/config';
import { findCheckpoint, firstNonFinite, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/train/checkpoint';
import { runDir } from './helpers';

function sample(epoch: number): Checkpoint {
  const odd = new Float32Array([1.5, -0, 3.4028234663852886e38, 1e-45, Math.fround(0.1)]); // bit patterns that must survive
  return {
    epoch, step: 3, partial: { lossSum: 12.25, correct: 7, seen: 12, seconds: 1.5 },
    rng: { seed: 4, epoch, step: 3 }, config: resolveConfig({ depth: 8, out: 'x' }), bestTestAcc: 0.5, wallSeconds: 99,
    weights: [{ name: 'a/kernel', shape: [5], values: odd }, { name: 'b/gamma', shape: [2, 1], values: new Float32Array([epoch, 2]) }],
    optimizer: { momentum: 0.9, weightDecay: 5e-4, velocities: [{ name: 'a/kernel', shape: [5], values: odd.map((v) => v / 2) }] },
  };
}

test('checkpoint round trip is bit-exact and replaces the previous one atomically', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  saveCheckpoint(run, sample(1));
  saveCheckpoint(run, sample(2));
  const back = loadCheckpoint(run);
  const want = sample(2);
  assert.equal(back.epoch, 2);
  assert.deepEqual({ ...back, weights: undefined, optimizer: undefined }, { ...want, weights: undefined, optimizer: undefined });
  back.weights.forEach((w, i) => {
    assert.deepEqual(w.shape, want.weights[i].shape);
    assert.deepEqual(new Uint32Array(w.values.buffer, w.values.byteOffset, w.values.length), new Uint32Array(want.weights[i].values.buffer));
  });
  assert.deepEqual([...back.optimizer.velocities[0].values], [...want.optimizer.velocities[0].values]);
  assert.deepEqual(fs.readdirSync(run).sort(), ['checkpoint', 'checkpoint.old']); // no temp folder left behind
  assert.equal(loadCheckpoint(run).epoch, 2);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'checkpoint.old', 'state.json'), 'utf8')).epoch, 1); // the one before, kept as the fallback
});

test('a crash between the two renames leaves checkpoint.old, which is read', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  saveCheckpoint(run, sample(1));
  fs.renameSync(path.join(run, 'checkpoint'), path.join(run, 'checkpoint.old'));
  fs.mkdirSync(path.join(run, 'checkpoint.tmp')); // a half-written new one
  assert.equal(findCheckpoint(run), path.join(run, 'checkpoint.old'));
  assert.equal(loadCheckpoint(run).epoch, 1);
  saveCheckpoint(run, sample(2)); // and the next save cleans up
  assert.deepEqual(fs.readdirSync(run).sort(), ['checkpoint', 'checkpoint.old']);
  assert.equal(loadCheckpoint(run).epoch, 2);
});

test('a truncated tensors.bin is a DataError naming the file and both sizes', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  saveCheckpoint(run, sample(1));
  const bin = path.join(run, 'checkpoint', 'tensors.bin');
  fs.truncateSync(bin, 12);
  assert.throws(() => loadCheckpoint(run), (e: Error) => e instanceof DataError && e.message.includes(bin) && /of 48 bytes, but it has 12/.test(e.message));
  assert.throws(() => loadCheckpoint(path.join(run, 'nothing')), /does not exist: the run has no checkpoint yet/);
});

test('a corrupt checkpoint/ falls back to checkpoint.old with a message; with no good one, a DataError names the file', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  saveCheckpoint(run, sample(1));
  saveCheckpoint(run, sample(2));
  const state = path.join(run, 'checkpoint', 'state.json');
  fs.truncateSync(state, 40); // cut mid-JSON
  const lines: string[] = [];
  assert.equal(loadCheckpoint(run, (l) => lines.push(l)).epoch, 1);
  assert.equal(lines.length, 1);
  assert.ok(lines[0].includes(state), lines[0]);
  assert.match(lines[0], /does not parse .*truncated or corrupt\. Resuming from the previous checkpoint .*checkpoint\.old \(1 epochs \+ 3 batches\) instead\./);

  fs.truncateSync(path.join(run, 'checkpoint.old', 'tensors.bin'), 8); // and the fallback too
  assert.throws(() => loadCheckpoint(run), (e: Error) => e instanceof DataError && e.message.includes(state) && /previous checkpoint is damaged too\. Start over with --restart/.test(e.message));
  fs.rmSync(path.join(run, 'checkpoint.old'), { recursive: true });
  assert.throws(() => loadCheckpoint(run), (e: Error) => e instanceof DataError && !(e instanceof SyntaxError) && /no previous checkpoint to fall back to/.test(e.message));
});

test('tensors.bin damaged without changing its size is caught by its sha256', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  saveCheckpoint(run, sample(1));
  saveCheckpoint(run, sample(2));
  const bin = path.join(run, 'checkpoint', 'tensors.bin');
  const bytes = fs.readFileSync(bin);
  bytes[5] ^= 0x40; // one flipped bit
  fs.writeFileSync(bin, bytes);
  const lines: string[] = [];
  assert.equal(loadCheckpoint(run, (l) => lines.push(l)).epoch, 1);
  assert.ok(lines[0].includes(bin) && /with sha256 [0-9a-f]{64} .*but it has [0-9a-f]{64}: the file is corrupt/.test(lines[0]), lines[0]);
});

test('firstNonFinite names the first NaN or Infinity and its index', () => {
  const arr = (name: string, values: number[]) => ({ name, shape: [values.length], values: Float32Array.from(values) });
  assert.equal(firstNonFinite([arr('a', [1, 2]), arr('b', [0])]), null);
  assert.deepEqual(firstNonFinite([arr('a', [1, 2]), arr('b', [0, Infinity, NaN])]), { name: 'b', index: 1, value: Infinity });
  assert.deepEqual(firstNonFinite([arr('a', [NaN])]), { name: 'a', index: 0, value: NaN });
});
