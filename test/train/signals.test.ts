/**
 * Killing a real training process: SIGKILL mid-run then --resume, and SIGTERM (checkpoint, exit
 * 130) then --resume, both end bit-identical to the same run done straight.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import type { Cifar10 } from '../../src/data/cifar10';
import type { TrainConfig } from '../../src/train/config';
import { train } from '../../src/train/train';
import { checkpointArrays, metricsWithoutTimes, runDir, tinyConfig, tinyData, writeTinyData } from './helpers';

const CHILD = path.join('test', 'train', 'fixtures', 'child.ts');
const EPOCHS = 3;
let dataDir: string;
let data: Cifar10;
let straight: string;

before(async () => {
  dataDir = writeTinyData();
  data = await tinyData(dataDir);
  straight = runDir();
  assert.equal((await train(tinyConfig(straight, { epochs: EPOCHS }), { data })).status, 'done');
});

const flags = (c: Partial<TrainConfig>) =>
  Object.entries(c).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase())}`, String(v)]);

function startChild(run: string): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, ...flags(tinyConfig(run, { epochs: EPOCHS })), '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  child.stdout!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

/** Resolves once the run has a checkpoint with at least one finished epoch. */
async function firstEpochCheckpoint(run: string, stderr: () => string): Promise<void> {
  const state = path.join(run, 'checkpoint', 'state.json');
  for (let waited = 0; waited < 240_000; waited += 20) {
    if (fs.existsSync(state) && JSON.parse(fs.readFileSync(state, 'utf8')).epoch >= 1) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no checkpoint after 240 s; child output:\n${stderr()}`);
}

async function resumeAndCompare(run: string) {
  const s = await train(tinyConfig(run, { epochs: EPOCHS }), { data, resume: true });
  assert.equal(s.status, 'done');
  assert.deepEqual(checkpointArrays(run), checkpointArrays(straight));
  assert.deepEqual(metricsWithoutTimes(run), metricsWithoutTimes(straight));
}

test('SIGKILL mid-run, then --resume: identical to an uninterrupted run', async () => {
  const run = runDir();
  const { child, exited, stderr } = startChild(run);
  await firstEpochCheckpoint(run, stderr);
  child.kill('SIGKILL');
  assert.equal(await exited, null);
  assert.ok(!fs.existsSync(path.join(run, 'summary.json')), 'the child finished before it was killed');
  await resumeAndCompare(run);
});

test('SIGTERM writes a checkpoint and exits 130; --resume continues exactly', async () => {
  const run = runDir();
  const { child, exited, stderr } = startChild(run);
  await firstEpochCheckpoint(run, stderr);
  child.kill('SIGTERM');
  assert.equal(await exited, 130, stderr());
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  assert.match(stderr(), /SIGTERM: finishing this batch/);
  assert.match(summary.message, /checkpoint written .*Continue exactly with --resume/);
  await resumeAndCompare(run);
});
