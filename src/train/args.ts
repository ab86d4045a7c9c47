/**
 * Train flags → a partial TrainConfig: every TrainConfig key is a flag in kebab-case
 * (`maxTrain` → `--max-train N`); booleans take no value (`--threshold-warmup`, `--no-augment`, or
 * `--augment=false`); `--config FILE` reads a JSON preset (flags after it win). Unknown flags and
 * bad values are errors that name the valid values. Shared by the train CLI, `npm start` and the
 * sweeps (which count each row's model from its flags).
 */
import * as fs from 'node:fs';
import { ValueError } from '../errors';
import { CONFIG_SPEC, DEFAULT_CONFIG, describeSpec, type TrainConfig } from './config';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const FLAGS = new Map(Object.keys(CONFIG_SPEC).map((k) => [kebab(k), k as keyof TrainConfig]));
const EXTRA_FLAGS = ['restart', 'resume', 'config', 'help'];

export interface TrainArgs {
  config: Partial<TrainConfig>;
  resume: boolean;
  restart: boolean;
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
  let restart = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new ValueError(`train expects flags of the form --name value, but received ${JSON.stringify(arg)}. See --help.`);
    let [, flag, inline] = m;
    if (flag === 'resume' || flag === 'restart' || flag === 'help') {
      if (inline !== undefined) throw new ValueError(`--${flag} expects no value, but received ${JSON.stringify(inline)}.`);
      if (flag === 'resume') resume = true;
      else if (flag === 'restart') restart = true;
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
  return { config: config as Partial<TrainConfig>, resume, restart, help };
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
    `  ${'--restart'.padEnd(36)} delete the results and checkpoints in --out and start over`,
  ].join('\n');
}
