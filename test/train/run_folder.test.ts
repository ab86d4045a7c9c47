/**
 * Run folders cannot be lost or mixed: results without a checkpoint are never wiped (--restart
 * starts over), a finished run resumed changes nothing, a damaged folder (corrupt state.json, torn
 * metrics line) resumes from checkpoint.old exactly, non-finite weights are never checkpointed, a
 * folder that cannot be written gives one line, and a second trainer is refused while one runs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Cifar10 } from '../../src/data/cifar10';
import { DataError, ValueError } from '../../src/errors';
import { loadCheckpoint } from '../../src/train/checkpoint';
import type { TrainConfig } from '../../src/train/config';
import { train } from '../../src/train/train';
import { tempDir } from '../data/fixtures';
import { checkpointArrays, metricsWithoutTimes, runDir, tinyConfig, tinyData, writeTinyData } from './helpers';

let dataDir: string;
let data: Cifar10;
let straight: string; // a finished 2-epoch run, never modified

before(async () => {
  dataDir = writeTinyData();
  data = await tinyData(dataDir);
  straight = runDir();
  assert.equal((await train(tinyConfig(straight), { data })).status, 'done');
});

/** A copy of the finished run in a new folder. */
function copyOfStraight(): string {
  const run = runDir();
  fs.cpSync(straight, run, { recursive: true });
  return run;
}

/** Every file of a folder (relative path → bytes and mtime), to prove nothing changed. */
function snapshot(dir: string): Record<string, { bytes: string; mtime: number }> {
  const out: Record<string, { bytes: string; mtime: number }> = {};
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = { bytes: fs.readFileSync(p).toString('base64'), mtime: fs.statSync(p).mtimeMs };
  }
  return out;
}

test('a finished run resumed changes nothing and returns its summary, saying it was finished', async () => {
  const before = snapshot(straight);
  const lines: string[] = [];
  const s = await train(tinyConfig(straight), { data, resume: true, log: (l) => lines.push(l) });
  const onDisk = JSON.parse(fs.readFileSync(path.join(straight, 'summary.json'), 'utf8'));
  assert.equal(s.status, 'done');
  assert.match(s.message, /had already finished its 2 epochs; nothing was changed\. Its summary: finished 2 epochs/);
  assert.deepEqual({ ...s, message: '' }, { ...onDisk, message: '' });
  assert.deepEqual(lines, [s.message]);
  assert.deepEqual(snapshot(straight), before); // no lock left either
});

test('results without a checkpoint are never wiped; --restart deletes them and starts over', async () => {
  const run = copyOfStraight();
  for (const d of ['checkpoint', 'checkpoint.old']) fs.rmSync(path.join(run, d), { recursive: true });
  const before = snapshot(run);
  for (const resume of [false, true]) {
    await assert.rejects(train(tinyConfig(run), { data, resume }), (e: Error) => e instanceof ValueError &&
      e.message.includes(`${run} to hold no results without a checkpoint, but it holds metrics.jsonl and summary.json and no checkpoint/`) &&
      /nothing was changed\. Pass --restart to delete them and start over/.test(e.message));
  }
  assert.deepEqual(snapshot(run), before);
  await assert.rejects(train(tinyConfig(run), { data, resume: true, restart: true }), /expects --resume or --restart, but received both/);

  const lines: string[] = [];
  const s = await train(tinyConfig(run), { data, restart: true, log: (l) => lines.push(l) });
  assert.equal(s.status, 'done');
  assert.equal(lines[0], `--restart: deleted metrics.jsonl, summary.json in ${run}; starting over`);
  assert.deepEqual(metricsWithoutTimes(run), metricsWithoutTimes(straight)); // one run's rows, not two
  assert.deepEqual(checkpointArrays(run), checkpointArrays(straight));
});

test('a damaged folder (truncated checkpoint/state.json, torn last metrics line) resumes from checkpoint.old, exactly', async () => {
  const run = copyOfStraight();
  const state = path.join(run, 'checkpoint', 'state.json');
  fs.truncateSync(state, 100);
  const metrics = path.join(run, 'metrics.jsonl');
  const rows = fs.readFileSync(metrics, 'utf8').split('\n');
  fs.writeFileSync(metrics, `${rows[0]}\n${rows[1].slice(0, 30)}`); // killed while appending epoch 2's row
  const lines: string[] = [];
  const s = await train(tinyConfig(run), { data, resume: true, log: (l) => lines.push(l) });
  assert.equal(s.status, 'done');
  assert.ok(lines.some((l) => l.includes(state) && /Resuming from the previous checkpoint .*checkpoint\.old \(1 epochs\) instead/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith(metrics) && l.includes('dropped its last line')), lines.join('\n'));
  assert.deepEqual(checkpointArrays(run), checkpointArrays(straight));
  assert.deepEqual(metricsWithoutTimes(run), metricsWithoutTimes(straight));
});

test('a non-finite weight after a finite-loss epoch stops the run as nan, naming it, and keeps the last good checkpoint', async () => {
  const run = runDir();
  let good: Float32Array | null = null;
  let poisoned = '';
  const s = await train(tinyConfig(run), {
    data,
    onEpoch: (row, model) => {
      if (row.epoch !== 1) return;
      good = checkpointArrays(run);
      const w = model.weights.find((v) => v.name.includes('moving_mean'))!; // used in evaluation only: the training loss stays finite
      poisoned = w.name;
      w.write(tf.fill(w.shape as number[], NaN));
    },
  });
  assert.equal(s.status, 'nan');
  assert.ok(s.message.startsWith(`stopped: ${poisoned}[0] became NaN after 2 epochs, so no checkpoint was written; the last good checkpoint (1 epochs) is kept`), s.message);
  assert.equal(loadCheckpoint(run).epoch, 1);
  assert.deepEqual(checkpointArrays(run), good);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')).status, 'nan');
});

test('an unwritable run folder (a file in the way, a full disk) is one DataError naming the path, and the lock is released', async () => {
  const file = path.join(tempDir('scconv-run-'), 'a-file');
  fs.writeFileSync(file, '');
  await assert.rejects(train(tinyConfig(path.join(file, 'run')), { data }), (e: Error) => e instanceof DataError &&
    /^train expects a writable .*a-file.*, but received a part of the path is a file, not a folder \(ENOTDIR\)\. Free space or make it writable, or choose a writable --out\.$/.test(e.message));

  // /dev/full fails every write with ENOSPC: put it where config.json is first written
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  const tmp = path.join(run, `config.json.tmp-${process.pid}`);
  fs.symlinkSync('/dev/full', tmp);
  await assert.rejects(train(tinyConfig(run), { data }), (e: Error) => e instanceof DataError &&
    e.message === `train expects a writable ${tmp}, but received the disk is full (ENOSPC). Free space or make it writable, or choose a writable --out.`);
  assert.deepEqual(fs.readdirSync(run), [path.basename(tmp)]); // no lock left, nothing else written
});

test('a real full disk (a 32 KiB tmpfs) mid-run: one DataError, lock released', async (t) => {
  const mnt = tempDir('scconv-tmpfs-');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', mnt]).status !== 0) {
    t.skip('mounting a tmpfs needs root (CAP_SYS_ADMIN); the /dev/full test above covers ENOSPC');
    return;
  }
  try {
    const run = path.join(mnt, 'run');
    await assert.rejects(train(tinyConfig(run), { data }), (e: Error) => e instanceof DataError &&
      e.message.startsWith(`train expects a writable ${run}/`) && e.message.includes('but received the disk is full (ENOSPC)'));
    assert.ok(!fs.existsSync(path.join(run, 'lock')));
  } finally {
    spawnSync('umount', [mnt]);
  }
});

const flags = (c: Partial<TrainConfig>) =>
  Object.entries(c).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase())}`, String(v)]);

/** The train CLI in a child process (test/train/fixtures/child.ts); resolves with its exit code and output. */
function trainCli(out: string, extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'train', 'fixtures', 'child.ts'), dataDir, ...flags(tinyConfig(out)), '--backend', 'cpu', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** The CLI's last line of stderr (the one before it says which backend runs), after checking that no stack trace was printed. */
function lastLine(stderr: string): string {
  assert.ok(stderr.endsWith('\n') && !/^\s+at /m.test(stderr), stderr);
  return stderr.trimEnd().split('\n').at(-1)!;
}

test('the CLI: a second trainer on a locked folder, and an unwritable --out, exit 2 with one line and no stack', async () => {
  const run = copyOfStraight();
  const holder = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'train', 'fixtures', 'lock_holder.ts'), run], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  try {
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => String(d).includes('locked') && resolve()));
    const before = snapshot(run);
    const r = await trainCli(run, ['--resume']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(lastLine(r.stderr), new RegExp(`^error: train expects ${run} to be free, but it is locked by pid ${holder.pid} on .* since .*: another trainer is writing this run folder\\. `));
    assert.deepEqual(snapshot(run), before); // the holder's folder is untouched
  } finally {
    holder.kill('SIGKILL');
    await exited;
  }

  const file = path.join(tempDir('scconv-run-'), 'a-file');
  fs.writeFileSync(file, '');
  const r = await trainCli(path.join(file, 'run'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(lastLine(r.stderr), /^error: train expects a writable .*a-file.*\(ENOTDIR\)\. .*choose a writable --out\.$/);
});
