/**
 * npm run train -- --depth 20 --conv scconv --epochs 200 [--budget-minutes N] [--resume | --restart] [--out DIR] …
 *
 * Every TrainConfig key is a flag in kebab-case (`maxTrain` → `--max-train N`); booleans take no
 * value (`--threshold-warmup`, `--no-augment`, or `--augment=false`). `--config FILE` reads a JSON
 * preset (see configs/), and flags after it win. Unknown flags and bad values are errors that name
 * the valid values. SIGINT/SIGTERM: finish the current batch, write a checkpoint, exit (a second
 * signal exits at once, keeping the last complete checkpoint).
 */
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Cifar10 } from '../data/cifar10';
import { isUserError } from '../errors';
import { helpText, parseTrainArgs, type TrainArgs } from '../train/args';
import type { TrainConfig } from '../train/config';
import { train, type TrainSummary } from '../train/train';
import { ProgressBar } from '../util/progress';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** Train with progress bars and signal handling; returns the summary. `data` skips loading (tests). */
export async function runTrain(config: Partial<TrainConfig>, opts: { resume?: boolean; restart?: boolean; data?: Cifar10; quiet?: boolean } = {}): Promise<TrainSummary> {
  let bar: ProgressBar | null = null;
  let resumedAt = 0; // images of the epoch trained before a resume
  const err = (line: string) => {
    bar?.finish(); // end the bar's line first (a no-op when it has finished)
    if (!opts.quiet) console.error(line);
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals === 1) err(`${sig}: finishing this batch, then writing a checkpoint (send it again to exit now)`);
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await train(config, {
      data: opts.data,
      resume: opts.resume,
      restart: opts.restart,
      log: err,
      stopRequested: () => signals > 0,
      onEpochStart: (s) => {
        resumedAt = s.seen;
        if (!opts.quiet) bar = new ProgressBar({ total: s.images - s.seen, unit: 'img', label: `epoch ${s.epoch + 1}` });
      },
      onStep: (s) => {
        bar?.update(s.seen - resumedAt, `loss ${s.loss.toFixed(4)}`);
        if (s.step === s.steps) bar?.finish(); // before the evaluation, so the rate is training only
      },
      onEpoch: (r) => {
        err(`epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}, train ${pct(r.trainAcc)}, test ${pct(r.testAcc)}, lr ${+r.lr.toPrecision(6)}, ${r.imagesPerSec.toFixed(1)} img/s, ${r.epochSeconds.toFixed(1)} s`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The CLI: returns the exit code (0 done/budget, 1 NaN, 2 bad input, 130 interrupted). */
export async function main(argv: string[], opts: { data?: Cifar10 } = {}): Promise<number> {
  let args: TrainArgs;
  try {
    args = parseTrainArgs(argv);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(helpText());
    return 0;
  }
  try {
    await initBackend({ backend: args.config.backend || undefined });
    const s = await runTrain(args.config, { resume: args.resume, restart: args.restart, data: opts.data });
    console.log(`${s.status}: ${s.message}\nresults: ${path.resolve(s.out)} (metrics.jsonl, summary.json, checkpoint/)`);
    return s.status === 'nan' ? 1 : s.status === 'interrupted' ? 130 : 0;
  } catch (e) {
    if (isUserError(e)) {
      console.error(`error: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && /cli[\\/]train\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
