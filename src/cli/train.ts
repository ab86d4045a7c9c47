/**
 * npm run train -- --depth 20 --conv scconv --epochs 200 [--budget-minutes N] [--resume] [--out DIR] …
 *
 * Every TrainConfig key is a flag in kebab-case (`maxTrain` → `--max-train N`); booleans take no
 * value (`--threshold-warmup`, `--no-augment`, or `--augment=false`). `--config FILE` reads a JSON
 * preset (see configs/), and flags after it win. Unknown flags and bad values are errors that name
 * the valid values. SIGINT/SIGTERM: finish the current batch, write a checkpoint, exit (a second
 * signal exits at once, keeping the last complete checkpoint).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Cifar10 } from '../data/cifar10';
import { ValueError } from '../errors';
import { CONFIG_SPEC, DEFAULT_CONFIG, describeSpec, type TrainConfig } from '../train/config';
import { train, type TrainSummary } from '../train/train';
import { ProgressBar } from '../util/progress';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const FLAGS = new Map(Object.keys(CONFIG_SPEC).map((k) => [kebab(k), k as keyof TrainConfig]));
const EXTRA_FLAGS = ['resume', 'config', 'help'];

export interface TrainArgs {
  config: Partial<TrainConfig>;
  resume: boolean;
  help: boolean;
}

function parseValue(key: keyof TrainConfig, flag: string, text: string): unknown {
  const spec = CONFIG_SPEC[key];
  const bad = () => new ValueError(`--${flag} expects ${describeSpec(spec)}, but received ${JSON.stringify(text)}.`);
  switch (spec.type) {
    case 'int':
    case 'float': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v) || (spec.type === 'int' && !Number.isInteger(v))) throw bad();
      return v;
    }
    case 'bool':
      if (text !== 'true' && text !== 'false') throw bad();
      return text === 'true';
    case 'enum':
      if (!spec.values.includes(text)) throw bad();
      return text;
    case 'string':
      return text;
  }
}

/** A JSON preset: TrainConfig keys; keys starting with '//' are comments (the reason for a value). */
export function readPreset(file: string): Partial<TrainConfig> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ValueError(`--config expects a readable JSON file, but ${JSON.stringify(file)} gave: ${(e as Error).message}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('//')) continue;
    if (!(k in CONFIG_SPEC)) throw new ValueError(`--config ${file} expects keys among ${Object.keys(CONFIG_SPEC).join(', ')}, but received ${JSON.stringify(k)}.`);
    out[k] = v;
  }
  return out as Partial<TrainConfig>;
}

/** Strict flag parsing: `--key value`, `--key=value`, `--flag` / `--no-flag` for booleans. */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const config: Record<string, unknown> = {};
  let resume = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new ValueError(`train expects flags of the form --name value, but received ${JSON.stringify(arg)}. See --help.`);
    let [, flag, inline] = m;
    if (flag === 'resume' || flag === 'help') {
      if (inline !== undefined) throw new ValueError(`--${flag} expects no value, but received ${JSON.stringify(inline)}.`);
      if (flag === 'resume') resume = true;
      else help = true;
      continue;
    }
    let negated = false;
    if (!FLAGS.has(flag) && flag !== 'config' && flag.startsWith('no-') && CONFIG_SPEC[FLAGS.get(flag.slice(3))!]?.type === 'bool') {
      negated = true;
      flag = flag.slice(3);
    }
    const key = FLAGS.get(flag);
    if (!key && flag !== 'config') {
      const valid = [...FLAGS.keys(), ...EXTRA_FLAGS].map((f) => '--' + f).join(', ');
      throw new ValueError(`train expects flags among ${valid}, but received --${flag}.`);
    }
    if (key && CONFIG_SPEC[key].type === 'bool' && inline === undefined) {
      config[key] = !negated;
      continue;
    }
    if (negated) throw new ValueError(`--no-${flag} expects no value, but received ${JSON.stringify(inline)}.`);
    const text = inline ?? argv[++i];
    if (text === undefined || (inline === undefined && text.startsWith('--'))) {
      throw new ValueError(`--${flag} expects a value (${key ? describeSpec(CONFIG_SPEC[key]) : 'a JSON preset file'}), but received nothing.`);
    }
    if (flag === 'config') Object.assign(config, readPreset(text));
    else config[key!] = parseValue(key!, flag, text);
  }
  return { config: config as Partial<TrainConfig>, resume, help };
}

export function helpText(): string {
  const rows = [...FLAGS].map(([flag, key]) => {
    const spec = CONFIG_SPEC[key];
    const value = spec.type === 'enum' ? spec.values.join('|') : spec.type === 'int' || spec.type === 'float' ? 'N' : 'TEXT';
    const name = spec.type === 'bool' ? `--${flag}, --no-${flag}` : `--${flag} ${value}`;
    return `  ${name.padEnd(36)} ${spec.help}; ${spec.type === 'int' || spec.type === 'float' ? describeSpec(spec) + ', ' : ''}default ${JSON.stringify(DEFAULT_CONFIG[key])}`;
  });
  return [
    'usage: npm run train -- [flags]   (defaults: the SCConv paper\'s CIFAR-10 recipe)',
    ...rows,
    `  ${'--config FILE'.padEnd(36)} JSON preset of these keys (camelCase), e.g. configs/quick.json`,
    `  ${'--resume'.padEnd(36)} continue the run in --out from its checkpoint, exactly`,
  ].join('\n');
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** Train with progress bars and signal handling; returns the summary. `data` skips loading (tests). */
export async function runTrain(config: Partial<TrainConfig>, opts: { resume?: boolean; data?: Cifar10; quiet?: boolean } = {}): Promise<TrainSummary> {
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
    const s = await runTrain(args.config, { resume: args.resume, data: opts.data });
    console.log(`${s.status}: ${s.message}\nresults: ${path.resolve(s.out)} (metrics.jsonl, summary.json, checkpoint/)`);
    return s.status === 'nan' ? 1 : s.status === 'interrupted' ? 130 : 0;
  } catch (e) {
    if (e instanceof ValueError || (e as Error).name === 'DataError') {
      console.error(`error: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && /cli[\\/]train\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
