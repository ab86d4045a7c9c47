/**
 * Experiment sweeps: a JSON file that lists rows, each an independent training run of the train
 * CLI (`npm run train -- ...`), with the published figure it is meant to reproduce.
 *
 *   { "name": "table2", "title": "...", "source": "...", "baseline": "resnet56",
 *     "defaults": { "depth": 56, "epochs": 200 },               // train flags for every row
 *     "budget": { "args": { "epochs": 3, "maxTrain": 10000 }, "note": "..." },  // with --budget-minutes
 *     "rows": [ { "id": "resnet56", "label": "ResNet-56", "args": { "conv": "standard" },
 *                 "published": { "params": 860000, "flops": 126840000, "top1": 93.27 } } ] }
 *
 * Keys in `args` are TrainConfig keys (camelCase); `trainArgs` turns them into the CLI's
 * kebab-case flags, so every row is one plain command that any batch scheduler can run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ValueError } from '../errors';

export type ArgValue = string | number | boolean;
export type Args = Record<string, ArgValue>;

/** A published figure for a row, and where it comes from. All numbers are as printed there. */
export interface Published {
  /** Parameters (a count, e.g. 860000 for "0.86M"). */
  params?: number | null;
  /** FLOPs (multiply-accumulates, e.g. 126840000 for "126.84M"). */
  flops?: number | null;
  /** Top-1 test accuracy in percent. */
  top1?: number | null;
  /** "x% fewer FLOPs" than the sweep's baseline row, as claimed. */
  fewerFlopsPct?: number | null;
  /** Where it was published (overrides the sweep's `source`). */
  source?: string;
}

export interface SweepRow {
  /** Folder name of the run: letters, digits, '-', '_', '.'. */
  id: string;
  /** Name shown in reports. */
  label: string;
  /** Train flags of this row, over the sweep's `defaults`. */
  args: Args;
  published?: Published | null;
}

export interface Sweep {
  name: string;
  title: string;
  /** Where the published figures come from. */
  source: string;
  /** The recipe behind the published figures (epochs, data). */
  publishedRecipe?: string;
  /** A free-form note printed in the report. */
  note?: string;
  /** Row id that "fewer FLOPs" is relative to. */
  baseline?: string;
  defaults: Args;
  /** Flags added in budgeted mode (`--budget-minutes M`): a shorter schedule that fits the budget. */
  budget?: { args: Args; note?: string };
  rows: SweepRow[];
}

/** A sweep by name (`sweeps/<name>.json`) or by path. */
export function loadSweep(nameOrPath: string, sweepsDir = 'sweeps'): Sweep {
  const candidates = [nameOrPath, join(sweepsDir, `${nameOrPath}.json`)];
  const file = candidates.find((p) => existsSync(p) && p.endsWith('.json'));
  if (!file) {
    throw new ValueError(`tables expects a sweep name (a file sweeps/<name>.json) or a .json path, but received ${JSON.stringify(nameOrPath)}: no such file.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValueError(`Sweep file ${resolve(file)} is not valid JSON: ${(err as Error).message}`);
  }
  return checkSweep(raw, resolve(file));
}

const ID = /^[A-Za-z0-9._-]+$/;

/** Check the shape of a parsed sweep file; errors name the file and the bad entry. */
export function checkSweep(raw: unknown, where: string): Sweep {
  const fail = (what: string, value: unknown) => {
    throw new ValueError(`Sweep file ${where} expects ${what}, but received ${JSON.stringify(value)}.`);
  };
  const s = raw as Sweep;
  if (typeof s !== 'object' || s === null) fail('a JSON object', s);
  if (typeof s.name !== 'string' || !ID.test(s.name)) fail('"name" made of letters, digits, ".", "-", "_"', s.name);
  if (typeof s.title !== 'string') fail('a "title" string', s.title);
  if (typeof s.source !== 'string') fail('a "source" string', s.source);
  if (!isArgs(s.defaults ?? {})) fail('"defaults" as an object of flag values', s.defaults);
  if (s.budget !== undefined && !isArgs(s.budget.args)) fail('"budget.args" as an object of flag values', s.budget);
  if (!Array.isArray(s.rows) || s.rows.length === 0) fail('a non-empty "rows" array', s.rows);
  const ids = new Set<string>();
  for (const r of s.rows) {
    if (typeof r.id !== 'string' || !ID.test(r.id) || ids.has(r.id)) fail('each row to have a unique "id" made of letters, digits, ".", "-", "_"', r.id);
    ids.add(r.id);
    if (typeof r.label !== 'string') fail(`row ${r.id} to have a "label" string`, r.label);
    if (!isArgs(r.args)) fail(`row ${r.id} to have "args" as an object of flag values`, r.args);
  }
  if (s.baseline !== undefined && !ids.has(s.baseline)) fail(`"baseline" to be one of the row ids (${[...ids].join(', ')})`, s.baseline);
  return { ...s, defaults: s.defaults ?? {} };
}

function isArgs(a: unknown): a is Args {
  return typeof a === 'object' && a !== null && !Array.isArray(a) &&
    Object.values(a).every((v) => ['string', 'number', 'boolean'].includes(typeof v));
}

/**
 * `{ maxTrain: 5000, conv: 'scconv', augment: false }` → `['--max-train=5000', '--conv=scconv', '--augment=false']`:
 * the train CLI's flags, in the `--flag=value` form it reads for every type (booleans included).
 */
export function trainArgs(args: Args): string[] {
  return Object.entries(args).map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${v}`);
}

/** One row, ready to run: its flags, its run folder, and whether it is budgeted. */
export interface RowPlan {
  sweep: string;
  row: SweepRow;
  /** 'full' (the published recipe) or 'budget-<M>min', plus overrides (see modeName). */
  mode: string;
  budgetMinutes: number;
  /** Merged TrainConfig keys: defaults, then budget args, then the row, then overrides. */
  settings: Args;
  runDir: string;
  /** Flags for the train CLI (without --resume). */
  args: string[];
}

export interface PlanOptions {
  /** Per-row time budget in minutes; 0 = the full recipe. */
  budgetMinutes?: number;
  /** Where run folders go: `<runsDir>/<sweep>/<mode>/<row id>` (see modeName). Defaults to 'runs'. */
  runsDir?: string;
  /** Flags that override every row (e.g. `{ data: '...', backend: 'wasm' }`). */
  overrides?: Args;
  /** Only these row ids. Defaults to all. */
  only?: string[];
}

/** Overrides that change where data or compute come from, not the experiment: left out of mode names. */
const CONTEXT_KEYS = new Set(['data', 'backend', 'out']);

/**
 * The mode folder of a set of runs: 'full', 'budget-30min', and overrides that change the
 * experiment appended ('budget-15min_epochs=2,maxTrain=512'), so runs with other settings never
 * share (or resume) a folder.
 */
export function modeName(budgetMinutes: number, overrides: Args = {}): string {
  const set = Object.keys(overrides).filter((k) => !CONTEXT_KEYS.has(k)).sort().map((k) => `${k}=${overrides[k]}`);
  const base = budgetMinutes > 0 ? `budget-${budgetMinutes}min` : 'full';
  return set.length ? `${base}_${set.join(',')}` : base;
}

/** The runs of a sweep, one per row. */
export function planSweep(sweep: Sweep, options: PlanOptions = {}): RowPlan[] {
  const budgetMinutes = options.budgetMinutes ?? 0;
  const mode = modeName(budgetMinutes, options.overrides);
  const runsDir = options.runsDir ?? 'runs';
  const only = options.only;
  if (only) {
    const unknown = only.filter((id) => !sweep.rows.some((r) => r.id === id));
    if (unknown.length) throw new ValueError(`tables expects --only row ids of ${sweep.name} (${sweep.rows.map((r) => r.id).join(', ')}), but received ${JSON.stringify(unknown)}.`);
  }
  return sweep.rows
    .filter((row) => !only || only.includes(row.id))
    .map((row) => {
      const runDir = join(runsDir, sweep.name, mode, row.id);
      const settings: Args = {
        ...sweep.defaults,
        ...(budgetMinutes > 0 ? sweep.budget?.args ?? {} : {}),
        ...row.args,
        ...(options.overrides ?? {}),
        ...(budgetMinutes > 0 ? { budgetMinutes } : {}),
        out: runDir,
      };
      return { sweep: sweep.name, row, mode, budgetMinutes, settings, runDir, args: trainArgs(settings) };
    });
}
