/**
 * npm run trained -- [NAME ...] [--full] [--data PATH]
 * npm run trained -- --record NAME --run DIR [--slice N]
 *
 * Re-measures the shipped trained models (reports/converged/trained.json): accuracy on the fixed
 * test slice recorded with the weights and, with --full, on all 10,000 test images, next to the
 * recorded values. --record measures a run folder's final checkpoint and writes its entry (the run
 * folder must sit under reports/converged/).
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { runCli } from './run_cli';
import { batches } from '../data/batches';
import { loadCifar10, type Cifar10 } from '../data/cifar10';
import { ValueError } from '../errors';
import { evaluate } from '../train/step';
import { loadTrained, listTrained, readTrainedIndex, type TrainedEntry } from '../train/trained';
import { writeJson } from '../train/run_files';

const USAGE = 'usage: npm run trained -- [NAME ...] [--full] [--data PATH]\n       npm run trained -- --record NAME --run DIR [--slice N] [--data PATH]';
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** Correct predictions of `model` on the first `images` test images (0 = all). */
export async function measure(model: tf.LayersModel, data: Cifar10, images: number): Promise<{ correct: number; images: number }> {
  const n = images > 0 ? Math.min(images, data.test.count) : data.test.count;
  const acc = await evaluate(model, batches(data.test, { batchSize: 500, limit: n }));
  return { correct: Math.round(acc * n), images: n };
}

function option(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new ValueError(`npm run trained expects a value after ${flag}, but received none.\n${USAGE}`);
  argv.splice(i, 2);
  return v;
}

export async function main(argv: string[]): Promise<number> {
  argv = [...argv];
  if (argv.includes('--help')) { console.log(USAGE); return 0; }
  const record = option(argv, '--record');
  const run = option(argv, '--run');
  const slice = Number(option(argv, '--slice') ?? 1000);
  const source = option(argv, '--data');
  const full = argv.includes('--full');
  const names = argv.filter((a) => a !== '--full');
  const unknown = names.find((a) => a.startsWith('--'));
  if (unknown) throw new ValueError(`npm run trained expects flags among --full, --data, --record, --run, --slice, but received ${unknown}.\n${USAGE}`);
  if (!Number.isInteger(slice) || slice < 1) throw new ValueError(`npm run trained expects --slice a positive integer, but received ${slice}.`);
  await initBackend();
  const data = await loadCifar10({ source });

  if (record) {
    if (!run) throw new ValueError(`npm run trained --record expects --run DIR (the run folder to measure), but received none.\n${USAGE}`);
    const { dir, entries } = readTrainedIndex();
    const rel = path.relative(dir, path.resolve(run));
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new ValueError(`npm run trained --record expects a run folder under ${dir}, but received ${run}.`);
    const { model } = await loadTrained(record, { runDir: run });
    const s = await measure(model, data, slice);
    const all = await measure(model, data, 0);
    model.dispose();
    const entry: TrainedEntry = { run: rel, slice: { images: s.images, correct: s.correct, data: data.label }, testAcc: all.correct / all.images };
    writeJson(path.join(dir, 'trained.json'), { ...entries, [record]: entry });
    console.log(`${record}: ${s.correct}/${s.images} on the first test images, ${pct(entry.testAcc)} on all ${all.images} (${data.label}); recorded`);
    return 0;
  }

  const { entries } = readTrainedIndex();
  const chosen = names.length ? names : listTrained();
  console.log('| model | epochs | slice: recorded | slice: now | test acc: recorded | test acc: now |\n|---|---:|---:|---:|---:|---:|');
  let mismatch = false;
  for (const name of chosen) {
    const entry = entries[name];
    if (!entry) throw new ValueError(`npm run trained expects names among ${listTrained().join(', ')}, but received ${JSON.stringify(name)}.`);
    const { model, card } = await loadTrained(name);
    const s = await measure(model, data, entry.slice.images);
    const all = full ? await measure(model, data, 0) : undefined;
    model.dispose();
    mismatch ||= s.correct !== entry.slice.correct;
    console.log(`| ${name} | ${card.epochsTrained}/${card.epochsPlanned} | ${entry.slice.correct}/${entry.slice.images} | ${s.correct}/${s.images} | ${pct(entry.testAcc)} | ${all ? pct(all.correct / all.images) : '(--full)'} |`);
  }
  if (mismatch) console.log(`A slice differs from the recorded value: different data (recorded on ${Object.values(entries)[0]?.slice.data}, now ${data.label}) or a different backend's float32 rounding.`);
  return 0;
}

if (process.argv[1] && /cli[\\/]trained\.ts$/.test(process.argv[1])) runCli(main);
