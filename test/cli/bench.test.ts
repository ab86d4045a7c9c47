import assert from 'node:assert/strict';
import { test } from 'node:test';

import { benchLine, benchPlan, inferenceBatches, medianRound, parseArgs, parseResultLine, plainNetworkOf, roundRatios } from '../../src/cli/bench';

test('parseArgs: defaults, every flag, and the internal worker flags', () => {
  const d = parseArgs([]);
  assert.deepEqual(d.models, ['resnet20', 'resnet20-scconv', 'resnet56', 'resnet56-scconv']);
  assert.equal(d.batch, 128);
  assert.equal(d.inference, false);
  assert.equal(d.worker, undefined);
  const o = parseArgs(['--models', 'resnet20-ghost,resnet56', '--batch', '64', '--steps', '5', '--warmup', '0', '--threads', '1',
    '--backend', 'cpu', '--vs-pytorch', '--inference', '--profile-shapes']);
  assert.deepEqual(o.models, ['resnet20-ghost', 'resnet56']);
  assert.deepEqual([o.batch, o.steps, o.warmup, o.threads, o.backend], [64, 5, 0, 1, 'cpu']);
  assert.deepEqual([o.vsPytorch, o.inference, o.profile, o.profileShapes], [true, true, true, true]);
  assert.deepEqual(parseArgs(['--worker', 'resnet20', '--worker-batch', '1']).worker, { model: 'resnet20', inferenceBatch: 1 });
  assert.deepEqual(parseArgs(['--worker', 'resnet20']).worker, { model: 'resnet20' });
  assert.equal(d.rounds, 1);
  assert.equal(parseArgs(['--rounds', '3']).rounds, 3);
  assert.deepEqual([d.warmupSeconds, d.minSeconds], [2, 1]);
  const t = parseArgs(['--warmup-seconds', '0.5', '--min-seconds', '0']);
  assert.deepEqual([t.warmupSeconds, t.minSeconds], [0.5, 0]);
  assert.deepEqual([d.paired, parseArgs(['--paired']).paired], [false, true]);
  assert.deepEqual(parseArgs(['--worker', 'resnet20-scconv', '--worker-paired', 'resnet20']).worker,
    { model: 'resnet20-scconv', pairedWith: 'resnet20' });
  assert.deepEqual(parseArgs(['--worker', 'resnet20-scconv', '--worker-paired', 'resnet20', '--worker-batch', '128']).worker,
    { model: 'resnet20-scconv', pairedWith: 'resnet20', inferenceBatch: 128 });
});

test('parseArgs: a bad flag or value names it and what is valid', () => {
  assert.throws(() => parseArgs(['--model', 'resnet20']), /bench expects flags --models, .* but received "--model"\./);
  assert.throws(() => parseArgs(['--models', 'resnet18']), /bench expects --models from resnet20, .* but received "resnet18"\./);
  assert.throws(() => parseArgs(['--models', ',']), /bench expects --models to name at least one of .* but received none\./);
  assert.throws(() => parseArgs(['--models']), /bench expects a value after --models, but received nothing\./);
  assert.throws(() => parseArgs(['--batch', '--inference']), /bench expects a value after --batch, but received "--inference"\./);
  assert.throws(() => parseArgs(['--steps', '2.5']), /bench expects --steps to be a non-negative integer, but received "2\.5"\./);
  assert.throws(() => parseArgs(['--batch', '0']), /bench expects --batch and --steps >= 1, but received 0 and 10\./);
  assert.throws(() => parseArgs(['--threads', '0']), /bench expects --threads >= 1, but received 0\./);
  assert.throws(() => parseArgs(['--rounds', '0']), /bench expects --rounds >= 1, but received 0\./);
  assert.throws(() => parseArgs(['--warmup-seconds', '-1']), /bench expects --warmup-seconds to be a number of seconds >= 0, but received "-1"\./);
  assert.throws(() => parseArgs(['--worker', 'vgg']), /bench expects --worker to name a model from .* but received "vgg"\./);
  assert.throws(() => parseArgs(['--worker', 'resnet20-scconv', '--worker-paired', 'vgg']), /bench expects --worker-paired to name a model from .* but received "vgg"\./);
});

test('plainNetworkOf and benchPlan: every conv variant runs after its plain network, added when not asked for', () => {
  assert.equal(plainNetworkOf('resnet20'), null);
  assert.equal(plainNetworkOf('resnet20-scconv'), 'resnet20');
  assert.equal(plainNetworkOf('resnet56-ghost'), 'resnet56');
  assert.equal(plainNetworkOf('resnet20-octave'), 'resnet20');
  assert.deepEqual(benchPlan(['resnet20-scconv']), { run: ['resnet20', 'resnet20-scconv'], added: ['resnet20'] });
  // Asked for after its variant: moved before it, not added, not run twice.
  assert.deepEqual(benchPlan(['resnet56-scconv', 'resnet20', 'resnet56']),
    { run: ['resnet56', 'resnet56-scconv', 'resnet20'], added: [] });
  assert.deepEqual(benchPlan(['resnet20-ghost', 'resnet20-octave']),
    { run: ['resnet20', 'resnet20-ghost', 'resnet20-octave'], added: ['resnet20'] });
  assert.deepEqual(inferenceBatches({ batch: 128 }), [1, 128]);
  assert.deepEqual(inferenceBatches({ batch: 1 }), [1]);
});

test('benchLine, training: vsStandard for ours and PyTorch, vsPytorch, peak RSS of both kept', () => {
  const plain = { ours: { model: 'resnet20', imagesPerSec: 400, peakRssMB: 1000 }, pytorch: { imagesPerSec: 300, peakRssMB: 900 } };
  const line = benchLine('train', { model: 'resnet20-scconv', imagesPerSec: 300, peakRssMB: 2000 },
    { imagesPerSec: 150, peakRssMB: 1100 }, plain);
  assert.equal(line.vsStandard, 0.75);
  assert.equal(line.vsPytorch, 2);
  assert.equal(line.peakRssMB, 2000);
  assert.deepEqual(line.pytorch, { imagesPerSec: 150, peakRssMB: 1100, vsStandard: 0.5 });
  assert.equal('inferenceVsStandard' in line, false);
  // The plain network itself: no vsStandard, still vsPytorch.
  const own = benchLine('train', plain.ours, plain.pytorch);
  assert.equal('vsStandard' in own, false);
  assert.equal(own.vsPytorch, 1.333);
  // Without --vs-pytorch: no PyTorch fields at all.
  const alone = benchLine('train', { imagesPerSec: 100 }, undefined, { ours: { imagesPerSec: 300 } });
  assert.deepEqual(Object.keys(alone).sort(), ['imagesPerSec', 'vsStandard']);
  assert.equal(alone.vsStandard, 0.333);
});

test('benchLine: a failed run gives null ratios, never a number or a missing field', () => {
  const failedPlain = { ours: { error: 'the benchmark process for resnet20 failed: exit status 1' } };
  assert.equal(benchLine('train', { imagesPerSec: 100 }, undefined, failedPlain).vsStandard, null);
  const torchFailed = benchLine('train', { imagesPerSec: 100 }, { error: 'the PyTorch run failed: no torch' }, { ours: { imagesPerSec: 200 } });
  assert.equal(torchFailed.vsPytorch, null);
  assert.equal(torchFailed.vsStandard, 0.5);
  assert.deepEqual(torchFailed.pytorch, { error: 'the PyTorch run failed: no torch' });
  assert.equal(benchLine('inference', { error: 'x' }, undefined, { ours: { imagesPerSec: 1 } }).inferenceVsStandard, null);
});

test('benchLine, inference: ratios per batch size against the plain network and against PyTorch', () => {
  const inf = (b1: number, b128: number) => ({ '1': { imagesPerSec: b1, msPerBatch: 1000 / b1, peakRssMB: 200 }, '128': { imagesPerSec: b128, msPerBatch: 128000 / b128, peakRssMB: 400 } });
  const plain = { ours: { inference: inf(90, 1500) }, pytorch: { inference: inf(200, 1000) } };
  const line = benchLine('inference', { inference: inf(45, 750) }, { inference: inf(120, 500) }, plain);
  assert.deepEqual(line.inferenceVsStandard, { '1': 0.5, '128': 0.5 });
  assert.deepEqual(line.inferenceVsPytorch, { '1': 0.375, '128': 1.5 });
  assert.deepEqual((line.pytorch as Record<string, unknown>).inferenceVsStandard, { '1': 0.6, '128': 0.5 });
  assert.equal('vsStandard' in line, false);
  // A batch size PyTorch did not measure: null for that one.
  const partial = benchLine('inference', { inference: inf(45, 750) }, { inference: { '1': { imagesPerSec: 90 } } });
  assert.deepEqual(partial.inferenceVsPytorch, { '1': 0.5, '128': null });
});

test('parseResultLine: the last stdout line as JSON, else the last stderr line as the error', () => {
  // A line as scripts/torch_bench.py --measure inference prints it, after other output.
  const torch = '{"engine": "pytorch 1.13.0", "threads": 2, "depth": 20, "conv": "scconv", "placement": "second", "batch": 128, ' +
    '"params": 157562, "steps": 10, "inference": {"1": {"imagesPerSec": 123.0, "msPerBatch": 8.13, "peakRssMB": 240}, ' +
    '"128": {"imagesPerSec": 479.0, "msPerBatch": 267.2, "peakRssMB": 610}}}';
  const r = parseResultLine(`warming up\n${torch}\n`, '', 0, 'the PyTorch run');
  assert.equal(r.engine, 'pytorch 1.13.0');
  assert.deepEqual(r.inference?.['128'], { imagesPerSec: 479, msPerBatch: 267.2, peakRssMB: 610 });
  assert.deepEqual(parseResultLine('', 'Traceback ...\nModuleNotFoundError: No module named torch\n', 1, 'the PyTorch run'),
    { error: 'the PyTorch run failed: ModuleNotFoundError: No module named torch' });
  assert.deepEqual(parseResultLine('not json', null, 3, 'the benchmark process for resnet20'),
    { error: 'the benchmark process for resnet20 failed: exit status 3, no JSON line on stdout' });
  assert.deepEqual(parseResultLine('[1, 2]', '', 0, 'x'), { error: 'x failed: exit status 0, no JSON line on stdout' });
});

test('medianRound: the round with the median images/s (per batch size for inference); failed rounds left out', () => {
  const train = [{ imagesPerSec: 300, peakRssMB: 1 }, { imagesPerSec: 500, peakRssMB: 2 }, { imagesPerSec: 400, peakRssMB: 3 }];
  assert.deepEqual(medianRound(train), { imagesPerSec: 400, peakRssMB: 3 });
  assert.deepEqual(medianRound([train[0], train[1]]), train[0], 'even count: the lower middle');
  assert.deepEqual(medianRound([{ error: 'boom' }, train[1]]), train[1]);
  assert.deepEqual(medianRound([{ error: 'boom' }, { error: 'again' }]), { error: 'boom' });
  const inf = (a: number, b: number) => ({ model: 'm', inference: { 1: { imagesPerSec: a, msPerBatch: 1000 / a, peakRssMB: 9 }, 128: { imagesPerSec: b, msPerBatch: 1, peakRssMB: 9 } } });
  const m = medianRound([inf(10, 900), inf(30, 700), inf(20, 800)]);
  assert.equal(m.inference!['1'].imagesPerSec, 20);
  assert.equal(m.inference!['128'].imagesPerSec, 800);
});

test('roundRatios: round i against round i, per batch size for inference, null where a round failed', () => {
  assert.deepEqual(roundRatios([{ imagesPerSec: 433 }, { imagesPerSec: 512 }, { error: 'x' }],
    [{ imagesPerSec: 500 }, { imagesPerSec: 640 }, { imagesPerSec: 700 }]), [0.866, 0.8, null]);
  assert.deepEqual(roundRatios(
    [{ inference: { '1': { imagesPerSec: 140 }, '128': { imagesPerSec: 1691 } } }, { inference: { '1': { imagesPerSec: 243 }, '128': { imagesPerSec: 2334 } } }],
    [{ inference: { '1': { imagesPerSec: 443 }, '128': { imagesPerSec: 2970 } } }, { error: 'plain failed' }]),
  { '1': [0.316, null], '128': [0.569, null] });
});
